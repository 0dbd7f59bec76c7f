from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from batchpay.config import load_settings
from batchpay.emulator import Emulator, Fault
from batchpay.ledger import Ledger
from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import KeyForm, attempt_key, make_plan
from batchpay.providers import open_provider
from batchpay.providers.base import PayoutRequest
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.send import Engine, RetryPolicy
from tests.conftest import TRON, FixedClock


def _ledger(ledger_url: str, provider: str, n: int) -> Ledger:
    rows = [
        PayoutRow(
            i + 2,
            f"R{i}",
            Decimal("10.50"),
            Decimal("10.50"),
            Decimal(0),
            "USDT",
            "TRON",
            TRON[i % 4],
        )
        for i in range(n)
    ]
    ledger = Ledger(ledger_url, clock=FixedClock())
    ledger.save_plan(
        make_plan("b", provider, "s.csv", "", rows),
        sandbox=False,
        rounding="down",
        fee_option="deduct",
    )
    return ledger


def _engine(ledger: Ledger, emulator: Emulator, provider: str) -> Engine:
    adapter = open_provider(
        provider, load_settings(environ=emulator.env()), transport=emulator.transport()
    )
    return Engine(
        ledger=ledger,
        provider=adapter,
        batch="b",
        concurrency=1,
        retry=RetryPolicy(max_tries=1),
        sleep=lambda s: None,
    )


def test_refused_credentials_stop_at_the_first_answer(tmp_path: Path, ledger_url: str) -> None:
    emulator = Emulator()
    ledger = _ledger(ledger_url, "2328io", 40)
    emulator.faults.add(Fault("2328io", "5xx_before", times=-1, status=401))
    engine = _engine(ledger, emulator, "2328io")
    engine.send_planned()
    statuses = [r.status for r in ledger.rows("b")]
    assert set(statuses) == {RowStatus.PLANNED}
    assert engine.stopped == (
        "2328io refused the credentials (HTTP 401 unauthorized: credentials were refused); "
        "check BATCHPAY_2328IO_PROJECT and BATCHPAY_2328IO_PAYOUT_API_KEY; 40 row(s) not sent"
    )
    creates = [p for m, p in emulator["2328io"].requests if m == "POST"]
    assert len(creates) == 1  # one refusal is enough: no probe, no second payout request
    assert emulator["2328io"].count() == 0


def test_repeated_provider_errors_stop_new_payouts(tmp_path: Path, ledger_url: str) -> None:
    emulator = Emulator()
    ledger = _ledger(ledger_url, "2328io", 40)
    emulator.faults.add(Fault("2328io", "5xx_before", times=-1, status=503))
    engine = _engine(ledger, emulator, "2328io")
    engine.send_planned()
    assert engine.stopped is not None and "5 provider failures" in engine.stopped
    creates = [p for m, p in emulator["2328io"].requests if m == "POST"]
    assert 5 <= len(creates) < 40  # stopped after the threshold
    assert emulator["2328io"].count() == 0


def test_the_probe_is_a_lookup_and_sending_resumes_when_it_passes(
    tmp_path: Path, ledger_url: str
) -> None:
    emulator = Emulator()
    ledger = _ledger(ledger_url, "oxapay", 40)
    emulator.faults.add(Fault("oxapay", "5xx_before", times=5, status=503))
    engine = _engine(ledger, emulator, "oxapay")
    engine.send_planned()
    # the first window's 5 failures opened the breaker; the probe (a history search) passed
    requests = emulator["oxapay"].requests
    assert ("GET", "/payout") in requests
    assert engine.stopped is None
    statuses = [r.status for r in ledger.rows("b")]
    assert statuses.count(RowStatus.PENDING) >= 24


def test_reconcile_flags_a_second_payout_and_an_unknown_one(
    tmp_path: Path, ledger_url: str
) -> None:
    bank = SandboxBank()
    ledger = _ledger(ledger_url, "sandbox", 3)
    engine = Engine(ledger=ledger, provider=SandboxProvider(bank), batch="b", sleep=lambda s: None)
    engine.send_planned()
    assert engine.reconcile() == 0
    rows = ledger.rows("b")
    # make the two views disagree both ways: a second live payout for row 0 under a key of
    # this batch, and a payout for row 1 whose reference the ledger has lost
    extra = PayoutRequest(
        rows[0].row_key,
        2,
        attempt_key(rows[0].row_key, 2, KeyForm.UUID),
        "R0",
        Decimal("10.50"),
        "USDT",
        "TRON",
        TRON[0],
    )
    bank.create(extra)
    ledger._db.execute(
        "INSERT INTO attempts (batch_id, row_key, attempt_no, idempotency_key, action, started_at)"
        " VALUES ('b', ?, 2, ?, 'create', 't')",
        (rows[0].row_key, extra.key),
    )
    ledger._db.execute(
        "UPDATE payouts SET provider_ref = NULL WHERE row_key = ?", (rows[1].row_key,)
    )
    assert engine.reconcile() == 2
    after = {r.reference: r for r in ledger.rows("b")}
    assert after["R0"].status is RowStatus.NEEDS_REVIEW and "2 payouts" in (
        after["R0"].error_message or ""
    )
    assert after["R1"].status is RowStatus.NEEDS_REVIEW
    assert after["R2"].status is RowStatus.COMPLETED


def test_the_batch_listing_takes_a_slot_of_the_rate_limit(tmp_path: Path, ledger_url: str) -> None:
    # every request to the provider goes under the (shared) rate limit, the listing included
    class Counting:
        slots = 0

        def acquire(self) -> None:
            Counting.slots += 1

    bank = SandboxBank()
    ledger = _ledger(ledger_url, "sandbox", 2)
    engine = Engine(
        ledger=ledger,
        provider=SandboxProvider(bank),
        batch="b",
        sleep=lambda s: None,
        limiter=Counting(),  # type: ignore[arg-type]
    )
    engine.send_planned()
    sent = Counting.slots
    assert sent == 2  # one slot per create
    assert engine.reconcile() == 0
    assert Counting.slots == sent + 1  # and one for the listing
