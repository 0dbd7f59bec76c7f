"""A callback applies to the attempt whose payout it names, never moves a row in flight, and
an accepted payout is never discarded (issue 11, 1b)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchpay.config import Environment
from batchpay.emulator import Emulator, Fault
from batchpay.ledger import Ledger, LedgerRow
from batchpay.model import RowStatus
from batchpay.webhooks import Receiver
from tests.webhooks.callbacks import (
    DEAD,
    FAILED_WIRE,
    PROVIDERS,
    Gate,
    book,
    engine,
    in_thread,
    payout_row,
    plan_rows,
    set_status,
    signed,
)

ACCEPTED_WIRE = {"oxapay": "confirmed", "thedex": 1, "pontis": "completed", "2328io": "completed"}


def _first_payout_failed(tmp_path: Path, provider: str, emulator: Emulator) -> str:
    """Steps 1: payout A is accepted, then fails, and its callback marks the row failed."""
    with Ledger(tmp_path / "l.sqlite") as ledger:
        plan_rows(ledger, provider, [payout_row(provider)])
        engine(ledger, provider, emulator).send_planned()
        first = ledger.rows("b")[0].provider_ref
    assert first
    set_status(emulator, provider, first, FAILED_WIRE[provider])
    reply = _receiver(tmp_path, emulator).handle(
        provider, *signed(provider, first, FAILED_WIRE[provider], emulator, "1")
    )
    assert (reply.status, reply.text) == (200, "updated")
    assert _row(tmp_path).status is RowStatus.FAILED
    return first


def _receiver(tmp_path: Path, emulator: Emulator) -> Receiver:
    return Receiver(tmp_path / "l.sqlite", Environment(emulator.env()))


def _row(tmp_path: Path) -> LedgerRow:
    with Ledger(tmp_path / "l.sqlite") as ledger:
        return ledger.rows("b")[0]


def _live(emulator: Emulator, provider: str) -> list[str]:
    return [p.ref for p in book(emulator, provider) if p.status not in DEAD]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_old_payouts_callback_during_retry_never_loses_the_new_payout(
    tmp_path: Path, provider: str
) -> None:
    """The five steps of the issue, with B held at the provider by a gate, not a sleep."""
    emulator = Emulator()
    first = _first_payout_failed(tmp_path, provider, emulator)
    gate = Gate(emulator, provider)
    # 2. retry sends payout B; 3. while B is in flight, another valid "A failed" arrives
    with in_thread(tmp_path / "l.sqlite", provider, emulator, gate, "retry_failed"):
        assert len(book(emulator, provider)) == 2  # B exists; its answer is held
        reply = _receiver(tmp_path, emulator).handle(
            provider, *signed(provider, first, FAILED_WIRE[provider], emulator, "2")
        )
        assert (reply.status, reply.text) == (200, "old_attempt")
        assert _row(tmp_path).status is RowStatus.SENDING
    # 4. B's accepted answer is recorded
    row = _row(tmp_path)
    (second,) = _live(emulator, provider)
    assert (row.status, row.attempt_no, row.provider_ref) == (RowStatus.PENDING, 2, second)
    assert row.amount_sent == row.amount
    # 5. the next retry pays no one
    with Ledger(tmp_path / "l.sqlite") as ledger:
        again = engine(ledger, provider, emulator)
        again.settle()
        again.retry_failed()
        assert again.requests == 0
        audit = [a for a in ledger.attempts("b") if a.action == "webhook"]
    assert len(book(emulator, provider)) == 2 and _live(emulator, provider) == [second]
    assert [(a.attempt_no, a.disposition, a.error_code) for a in audit] == [
        (1, "applied", None),
        (1, "not_applied", "old_attempt"),
    ]


@pytest.mark.parametrize("provider", ["2328io", "oxapay"])
def test_a_callback_never_moves_a_row_in_flight(tmp_path: Path, provider: str) -> None:
    """Even news of the current attempt waits for the engine's own answer."""
    emulator = Emulator()
    with Ledger(tmp_path / "l.sqlite") as ledger:
        plan_rows(ledger, provider, [payout_row(provider)])
        engine(ledger, provider, emulator).send_planned()
        ref = ledger.rows("b")[0].provider_ref
        # a crash between intent and answer: the row is sending again on the same attempt
        assert ref
        ledger._db.execute("UPDATE payouts SET status = 'sending'")
    reply = _receiver(tmp_path, emulator).handle(
        provider, *signed(provider, ref, FAILED_WIRE[provider], emulator, "1")
    )
    assert (reply.status, reply.text) == (200, "in_flight")
    assert _row(tmp_path).status is RowStatus.SENDING
    with Ledger(tmp_path / "l.sqlite") as ledger:
        (audit,) = [a for a in ledger.attempts("b") if a.action == "webhook"]
        assert (audit.disposition, audit.error_code) == ("not_applied", "row_in_flight")
        engine(ledger, provider, emulator).settle()  # the engine's lookup decides
    assert _row(tmp_path).status is RowStatus.COMPLETED  # emulated lookups advance payouts


@pytest.mark.parametrize("provider", PROVIDERS)
def test_accepted_news_of_a_failed_rows_payout_is_kept_for_review(
    tmp_path: Path, provider: str
) -> None:
    emulator = Emulator()
    first = _first_payout_failed(tmp_path, provider, emulator)
    # the provider says A was accepted after all (a reversal, or deliveries out of order)
    set_status(emulator, provider, first, ACCEPTED_WIRE[provider])
    reply = _receiver(tmp_path, emulator).handle(
        provider, *signed(provider, first, ACCEPTED_WIRE[provider], emulator, "2")
    )
    assert (reply.status, reply.text) == (200, "needs_review")
    row = _row(tmp_path)
    assert (row.status, row.provider_ref, row.error_code) == (
        RowStatus.NEEDS_REVIEW,
        first,
        "accepted_after_failure",
    )
    assert "money may be moving" in (row.error_message or "")
    with Ledger(tmp_path / "l.sqlite") as ledger:
        again = engine(ledger, provider, emulator)
        again.retry_failed()
        assert again.requests == 0
    assert len(book(emulator, provider)) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_callback_about_an_older_attempt_is_recorded_not_applied(
    tmp_path: Path, provider: str
) -> None:
    emulator = Emulator()
    first = _first_payout_failed(tmp_path, provider, emulator)
    with Ledger(tmp_path / "l.sqlite") as ledger:
        engine(ledger, provider, emulator).retry_failed()
        second = ledger.rows("b")[0].provider_ref
    assert second and second != first
    receiver = _receiver(tmp_path, emulator)
    # whatever it says about A, the row on attempt 2 does not move
    for n, wire in enumerate((ACCEPTED_WIRE[provider], FAILED_WIRE[provider])):
        reply = receiver.handle(provider, *signed(provider, first, wire, emulator, f"old{n}"))
        assert (reply.status, reply.text) == (200, "old_attempt")
        assert _row(tmp_path).status is RowStatus.PENDING
    # news of B itself applies
    set_status(emulator, provider, second, FAILED_WIRE[provider])
    reply = receiver.handle(
        provider, *signed(provider, second, FAILED_WIRE[provider], emulator, "b")
    )
    assert (reply.status, reply.text) == (200, "updated")
    row = _row(tmp_path)
    assert (row.status, row.provider_ref, row.amount_sent) == (RowStatus.FAILED, second, None)
    with Ledger(tmp_path / "l.sqlite") as ledger:
        audit = [a for a in ledger.attempts("b") if a.action == "webhook"]
    assert [(a.attempt_no, a.provider_ref, a.disposition) for a in audit] == [
        (1, first, "applied"),
        (1, first, "not_applied"),
        (1, first, "not_applied"),
        (2, second, "applied"),
    ]
    assert all(
        "attempt 1, but the row is on attempt 2" in (a.error_message or "") for a in audit[1:3]
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_lost_answer_on_retry_is_resolved_from_the_new_payout_not_the_old(
    tmp_path: Path, provider: str
) -> None:
    """The row's provider ref belongs to its current attempt: after a retry whose answer was
    lost, settling looks for payout B, never reads failed payout A as B's outcome."""
    emulator = Emulator()
    _first_payout_failed(tmp_path, provider, emulator)
    emulator.faults.add(Fault(provider, "drop_after", op="create", times=-1))
    with Ledger(tmp_path / "l.sqlite") as ledger:
        engine(ledger, provider, emulator).retry_failed()
        assert ledger.rows("b")[0].status is RowStatus.UNKNOWN
        assert ledger.rows("b")[0].provider_ref is None
        emulator.faults.clear()
        resolver = engine(ledger, provider, emulator)
        resolver.settle()
        resolver.retry_failed()
        row = ledger.rows("b")[0]
    (live,) = _live(emulator, provider)
    assert (row.status, row.attempt_no, row.provider_ref) == (RowStatus.PENDING, 2, live)
