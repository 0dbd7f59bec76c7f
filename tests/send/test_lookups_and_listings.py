"""A lookup that cannot tell is unknown, and a listing that could not be read whole is never
taken as complete: these are the rules that keep "not found" and "clean" honest.

- every adapter's lookup answers *unknown* (never None, never "failed") when the provider's
  answer is an error, a refusal or unreadable;
- reconciliation of a batch reads the provider's list for the time the batch was sending,
  to the end, and reports a listing it could not finish instead of calling the batch clean.
"""

from __future__ import annotations

import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from batchpay.config import load_settings
from batchpay.emulator import Emulator, Fault
from batchpay.emulator.oxapay import EmuOxaPay
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from batchpay.plan import make_plan
from batchpay.providers import open_provider
from batchpay.providers.base import Disposition, PayoutRequest
from batchpay.providers.oxapay import OxaPayAdapter
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.send import Engine, RetryPolicy
from tests.providers.test_fault_matrix import _row

PROVIDERS = ["oxapay", "thedex", "pontis", "2328io"]
LOOKUP_PATHS = {
    "oxapay": "/oxapay/v1/payout/",
    "thedex": "/thedex/api/v1/payouts/one",
    "pontis": "/pontis/api/v1/payouts/getPayoutStatus",
    "2328io": "/2328io/api/v1/payout/status/",
}


def _ledger(ledger_url: str, provider: str) -> Ledger:
    ledger = Ledger(ledger_url)  # real time, as in use
    ledger.save_plan(
        make_plan("b", provider, "s.csv", "", [_row(provider)]),
        sandbox=False,
        rounding="down",
        fee_option="deduct",
    )
    return ledger


def _engine(
    ledger: Ledger, emulator: Emulator, provider: str, transport: httpx.BaseTransport | None = None
) -> Engine:
    settings = load_settings({"grace_seconds": {provider: 0}}, environ=emulator.env())
    return Engine(
        ledger=ledger,
        provider=open_provider(provider, settings, transport=transport or emulator.transport()),
        batch="b",
        concurrency=1,
        retry=RetryPolicy(max_tries=1),
        sleep=lambda s: None,
    )


# -- lookups that cannot tell ---------------------------------------------------------------

SPOILS = {
    "404-html": httpx.Response(404, text="<html>no route</html>"),
    "400-html": httpx.Response(400, text="<html>bad gateway config</html>"),
    "401": httpx.Response(401, json={"message": "Invalid key"}),
    "429": httpx.Response(429, headers={"retry-after": "1"}, json={"error": "slow down"}),
    "503": httpx.Response(503, text="upstream unavailable"),
    "200-html": httpx.Response(200, text="<html>gateway hiccup</html>"),
    "200-empty-object": httpx.Response(200, json={}),
}


@pytest.mark.parametrize("spoil", list(SPOILS))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_lookup_that_cannot_tell_is_unknown(provider: str, spoil: str) -> None:
    emulator = Emulator()
    inner = emulator.transport()

    def spoiled(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(LOOKUP_PATHS[provider]):
            return SPOILS[spoil]
        return inner.handle_request(request)

    adapter = open_provider(
        provider, load_settings(environ=emulator.env()), transport=httpx.MockTransport(spoiled)
    )
    row = _row(provider)
    request = PayoutRequest(
        "rk", 1, "bp-00112233445566778899aabb", "E-1", row.amount, row.currency,
        row.network, row.address, extra=row.extra,
    )  # fmt: skip
    answer = adapter.lookup(request, "258000001" if provider == "oxapay" else "ref-1")
    assert answer is not None, "an answer that tells nothing is not 'not found'"
    assert (answer.status, answer.disposition) == (RowStatus.UNKNOWN, Disposition.UNKNOWN)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_lookup_error_never_marks_a_payout_failed_for_retry_to_pay_again(
    tmp_path: Path, provider: str, ledger_url: str
) -> None:
    """A 400 with an unreadable body on a status lookup used to read as "failed for good":
    `retry` then paid the row a second time."""
    emulator = Emulator()
    ledger = _ledger(ledger_url, provider)
    engine = _engine(ledger, emulator, provider)
    engine.send_planned()
    assert ledger.rows("b")[0].status is RowStatus.PENDING
    emulator.faults.add(Fault(provider, "5xx_before", op="lookup", status=400))
    engine.refresh()
    engine.retry_failed()
    assert ledger.rows("b")[0].status is not RowStatus.FAILED
    assert emulator[provider].count() == 1
    engine.refresh()  # the provider answers again: the payout is there
    assert ledger.rows("b")[0].status is RowStatus.COMPLETED


def test_an_adapter_that_raises_on_lookup_leaves_the_row_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger_url: str
) -> None:
    bank = SandboxBank()
    ledger = _ledger(ledger_url, "sandbox")
    engine = _engine_on(ledger, SandboxProvider(bank, faults=lambda a, r: "drop_after"))
    engine.send_planned()
    assert ledger.rows("b")[0].status is RowStatus.UNKNOWN

    def broken(key: str) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(bank, "find", broken)
    engine.settle()  # no exception escapes, and nothing is resent
    row = ledger.rows("b")[0]
    assert (row.status, row.error_code) == (RowStatus.UNKNOWN, "internal_error")
    assert bank.count() == 1


def _engine_on(ledger: Ledger, provider: SandboxProvider) -> Engine:
    return Engine(ledger=ledger, provider=provider, batch="b", sleep=lambda s: None)


# -- listings used in reconciliation --------------------------------------------------------


def _paid_oxapay(ledger_url: str, lookalikes: int) -> tuple[Ledger, Emulator, Engine]:
    emulator = Emulator()
    ledger = _ledger(ledger_url, "oxapay")
    engine = _engine(ledger, emulator, "oxapay")
    engine.send_planned()
    assert ledger.rows("b")[0].status is RowStatus.PENDING
    book = emulator["oxapay"]
    assert isinstance(book, EmuOxaPay)
    now = int(time.time())
    book.preload(
        [
            book.record("TLfuw4tRywtxCusvTudbjf7PbcXjfe7qrw", "USDT", Decimal("10.5"), date=now)
            for _ in range(lookalikes)
        ]
    )
    return ledger, emulator, engine


def test_reconcile_reads_the_whole_window_and_finds_a_hidden_second_payout(ledger_url: str) -> None:
    """A second payout with the row's tag behind 10,000 look-alikes: the old 50-page listing
    never saw it and called the batch clean."""
    ledger, emulator, engine = _paid_oxapay(ledger_url, 10_000)
    book = emulator["oxapay"]
    assert isinstance(book, EmuOxaPay)
    ours = book.payouts[0]
    book.preload(
        [book.record(ours["address"], "USDT", Decimal("10.5"), description=ours["description"])]
    )
    assert engine.reconcile() == 1
    row = ledger.rows("b")[0]
    assert row.status is RowStatus.NEEDS_REVIEW and "2 payouts" in (row.error_message or "")
    assert ledger.reconciled_revision("b") is None


def test_a_listing_past_its_page_cap_is_reported_never_called_clean(ledger_url: str) -> None:
    ledger, _, engine = _paid_oxapay(ledger_url, 1_500)
    assert isinstance(engine.provider, OxaPayAdapter)
    engine.provider.listing_pages = 5
    assert engine.reconcile() == 0
    assert ledger.reconciled_revision("b") is None
    assert engine.stopped is not None and "reconciliation incomplete" in engine.stopped
    assert "more than 5 pages" in engine.stopped
    engine.provider.listing_pages = 100
    engine.stopped = None
    assert engine.reconcile() == 0  # read to the end, nothing wrong: now it is clean
    assert engine.stopped is None
    assert ledger.reconciled_revision("b") == ledger.revision("b")


def test_a_failing_listing_is_reported_not_silent(tmp_path: Path, ledger_url: str) -> None:
    emulator = Emulator()
    ledger = _ledger(ledger_url, "thedex")
    engine = _engine(ledger, emulator, "thedex")
    engine.send_planned()
    emulator.faults.add(Fault("thedex", "5xx_before", op="list", times=-1, status=503))
    engine.reconcile()
    assert ledger.reconciled_revision("b") is None
    assert engine.stopped is not None and "reconciliation incomplete" in engine.stopped


def test_a_listing_that_raises_is_reported_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger_url: str
) -> None:
    bank = SandboxBank()
    ledger = _ledger(ledger_url, "sandbox")
    engine = _engine_on(ledger, SandboxProvider(bank))
    engine.send_planned()

    def broken() -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(bank, "listing", broken)
    assert engine.reconcile() == 0
    assert ledger.reconciled_revision("b") is None
    assert engine.stopped is not None and "OperationalError" in engine.stopped


def test_the_reconcile_listing_is_narrowed_to_the_batch_send_time(
    tmp_path: Path, ledger_url: str
) -> None:
    """10,000 payouts from two days before the batch are not read again: one page."""
    emulator = Emulator()
    ledger = _ledger(ledger_url, "oxapay")
    book = emulator["oxapay"]
    assert isinstance(book, EmuOxaPay)
    old = int(time.time()) - 2 * 86_400
    address = _row("oxapay").address or ""
    book.preload([book.record(address, "USDT", Decimal("1"), date=old) for _ in range(10_000)])
    engine = _engine(ledger, emulator, "oxapay")
    engine.send_planned()
    before = book.requests.count(("GET", "/payout"))
    assert engine.reconcile() == 0
    assert book.requests.count(("GET", "/payout")) - before == 1
    assert ledger.reconciled_revision("b") == ledger.revision("b")
