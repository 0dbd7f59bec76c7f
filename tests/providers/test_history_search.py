"""A provider without an idempotency key is searched before anything is resent. The search
must end (it is narrowed to the time the ledger says the payout was sent, and to its amount
and currency), and a search that could not read its whole window is *unknown*, never "not
found". Each case preloads thousands of look-alike payouts (same amount, currency and network)
straight into the emulation's book."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from batchpay.config import load_settings
from batchpay.emulator import Emulator, Fault
from batchpay.emulator.oxapay import EmuOxaPay
from batchpay.emulator.thedex import EmuTheDex
from batchpay.ledger import Ledger
from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import make_plan
from batchpay.providers import open_provider
from batchpay.providers.oxapay import OxaPayAdapter
from batchpay.send import Engine, RetryPolicy
from tests.conftest import TRON

AMOUNT = Decimal("10.5")
LOOKALIKES = 10_000


def _ledger(tmp_path: Path, provider: str) -> Ledger:
    """One row of 10.5 USDT on TRON; the ledger keeps real time, as in use."""
    row = PayoutRow(2, "E-1", AMOUNT, AMOUNT, Decimal(0), "USDT", "TRON", TRON[0])
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.save_plan(
        make_plan("b", provider, "s.csv", "", [row]),
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


def _oxapay_lookalikes(emulator: Emulator, n: int, date: int) -> None:
    book = emulator["oxapay"]
    assert isinstance(book, EmuOxaPay)
    book.preload(
        [
            book.record(
                TRON[1 + i % 3], "USDT", AMOUNT, network="TRC20", description="pay", date=date
            )
            for i in range(n)
        ]
    )


def _lost_send(ledger: Ledger, emulator: Emulator, provider: str) -> Engine:
    """Send the row; the provider creates the payout but the answer is lost."""
    emulator.faults.add(Fault(provider, "drop_after"))
    engine = _engine(ledger, emulator, provider)
    engine.send_planned()
    assert ledger.rows("b")[0].status is RowStatus.UNKNOWN
    return engine


def _history_requests(emulator: Emulator) -> int:
    return emulator["oxapay"].requests.count(("GET", "/payout"))


def test_lookalikes_in_the_window_are_read_to_the_end_and_ours_is_found(tmp_path: Path) -> None:
    """10,000 look-alikes sent in the same second, ours after them (page 51 of 200): the
    search reads every page and finds ours; the old 50-page cap said "not found" and paid
    again."""
    emulator = Emulator()
    ledger = _ledger(tmp_path, "oxapay")
    _oxapay_lookalikes(emulator, LOOKALIKES, int(time.time()))
    engine = _lost_send(ledger, emulator, "oxapay")
    ours = emulator["oxapay"].payouts[-1]
    started = time.monotonic()
    for _ in range(2):
        engine.settle()
        engine.send_planned()
    assert time.monotonic() - started < 30  # float-ok: seconds; a few on a loaded machine
    row = ledger.rows("b")[0]
    assert (row.status, row.provider_ref) == (RowStatus.PENDING, ours["track_id"])
    assert emulator["oxapay"].count() == LOOKALIKES + 1  # nothing paid twice


def test_the_search_is_narrowed_to_the_send_time_so_it_ends_in_one_page(tmp_path: Path) -> None:
    """Look-alikes sent two hours earlier are outside the window: one page answers."""
    emulator = Emulator()
    ledger = _ledger(tmp_path, "oxapay")
    _oxapay_lookalikes(emulator, LOOKALIKES, int(time.time()) - 7200)
    engine = _lost_send(ledger, emulator, "oxapay")
    before = _history_requests(emulator)
    engine.settle()
    assert _history_requests(emulator) - before == 1
    assert ledger.rows("b")[0].status is RowStatus.PENDING
    assert emulator["oxapay"].count() == LOOKALIKES + 1


def test_a_search_past_its_page_cap_is_unknown_and_never_resends(tmp_path: Path) -> None:
    emulator = Emulator()
    ledger = _ledger(tmp_path, "oxapay")
    _oxapay_lookalikes(emulator, LOOKALIKES, int(time.time()))
    engine = _lost_send(ledger, emulator, "oxapay")
    assert isinstance(engine.provider, OxaPayAdapter)
    engine.provider.search_pages = 10
    for _ in range(3):
        engine.settle()
        engine.send_planned()
    row = ledger.rows("b")[0]
    assert (row.status, row.error_code) == (RowStatus.UNKNOWN, "search_failed")
    assert "more than 10 pages" in (row.error_message or "")
    assert emulator["oxapay"].count() == LOOKALIKES + 1


def test_an_error_part_way_through_the_pages_is_unknown(tmp_path: Path) -> None:
    emulator = Emulator()
    ledger = _ledger(tmp_path, "oxapay")
    _oxapay_lookalikes(emulator, 1000, int(time.time()))
    engine = _lost_send(ledger, emulator, "oxapay")
    emulator.faults.add(Fault("oxapay", "5xx_before", op="list", after=3, status=503))
    engine.settle()
    engine.send_planned()
    assert ledger.rows("b")[0].status is RowStatus.UNKNOWN
    assert "page 4" in (ledger.rows("b")[0].error_message or "")
    engine.settle()  # the provider is back: the whole window is read, ours is found
    assert ledger.rows("b")[0].status is RowStatus.PENDING
    assert emulator["oxapay"].count() == 1001


def _lying(
    inner: httpx.MockTransport, lie: Callable[[dict[str, Any]], None]
) -> httpx.MockTransport:
    """Pass everything through, but let ``lie`` rewrite each history page."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        if request.method == "GET" and request.url.path == "/oxapay/v1/payout":
            body = json.loads(response.read())
            lie(body["data"])
            return httpx.Response(response.status_code, json=body)
        return response

    return httpx.MockTransport(handle)


def _last_page_one(data: dict[str, Any]) -> None:
    data["meta"]["last_page"] = 1


def _total_grows(data: dict[str, Any]) -> None:
    data["meta"]["total"] += data["meta"]["page"]


def _page_one_again(data: dict[str, Any]) -> None:
    data["meta"]["page"] = 1


def _no_list(data: dict[str, Any]) -> None:
    data["list"] = None


@pytest.mark.parametrize("lie", [_last_page_one, _total_grows, _page_one_again, _no_list])
def test_pages_that_disagree_are_unknown_never_not_found(
    tmp_path: Path, lie: Callable[[dict[str, Any]], None]
) -> None:
    emulator = Emulator()
    ledger = _ledger(tmp_path, "oxapay")
    _oxapay_lookalikes(emulator, 400, int(time.time()))  # ours is on page 3
    _lost_send(ledger, emulator, "oxapay")
    engine = _engine(ledger, emulator, "oxapay", _lying(emulator.transport(), lie))
    for _ in range(2):
        engine.settle()
        engine.send_planned()
    assert ledger.rows("b")[0].status is RowStatus.UNKNOWN
    assert emulator["oxapay"].count() == 401


# -- TheDex -------------------------------------------------------------------------------


def test_thedex_search_is_narrowed_to_the_send_time(tmp_path: Path) -> None:
    emulator = Emulator()
    seen: list[dict[str, Any]] = []
    inner = emulator.transport()

    def spy(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/thedex/api/v1/payouts":
            seen.append(json.loads(request.read()))
        return inner.handle_request(request)

    ledger = _ledger(tmp_path, "thedex")
    book = emulator["thedex"]
    assert isinstance(book, EmuTheDex)
    now_ms = int(time.time() * 1000)
    book.preload(
        [
            book.record("USDT_TRON", AMOUNT, TRON[1], description="pay", created_ms=now_ms)
            for _ in range(LOOKALIKES)
        ]
    )
    _lost_send(ledger, emulator, "thedex")
    engine = _engine(ledger, emulator, "thedex", httpx.MockTransport(spy))
    engine.settle()
    assert ledger.rows("b")[0].status is RowStatus.PENDING
    assert emulator["thedex"].count() == LOOKALIKES + 1
    (window,) = seen
    assert window["to"] - window["from"] <= 2 * 3600 * 1000  # not the last 31 days
    assert window["from"] <= now_ms <= window["to"]


@pytest.mark.parametrize(
    "answer",
    [
        {"list": []},  # not the documented array
        ["garbled", {"id": "dex-1"}],  # an entry that is not a payout
        [{"description": "no id"}],
    ],
)
def test_a_thedex_list_it_cannot_read_is_unknown(tmp_path: Path, answer: Any) -> None:
    emulator = Emulator()
    inner = emulator.transport()

    def garble(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/thedex/api/v1/payouts":
            return httpx.Response(200, json=answer)
        return inner.handle_request(request)

    ledger = _ledger(tmp_path, "thedex")
    _lost_send(ledger, emulator, "thedex")
    engine = _engine(ledger, emulator, "thedex", httpx.MockTransport(garble))
    for _ in range(2):
        engine.settle()
        engine.send_planned()
    assert ledger.rows("b")[0].status is RowStatus.UNKNOWN
    assert emulator["thedex"].count() == 1


def test_a_payout_found_before_the_search_failed_is_ours(tmp_path: Path) -> None:
    """Absence needs the whole window; presence does not: ours, on page 1, is found even
    though page 2 fails."""
    emulator = Emulator()
    ledger = _ledger(tmp_path, "oxapay")
    engine = _lost_send(ledger, emulator, "oxapay")
    _oxapay_lookalikes(emulator, 1000, int(time.time()))
    emulator.faults.add(Fault("oxapay", "5xx_before", op="list", after=1, status=503))
    engine.settle()
    row = ledger.rows("b")[0]
    assert (row.status, row.provider_ref) == (
        RowStatus.PENDING,
        emulator["oxapay"].payouts[0]["track_id"],
    )
