from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from batchpay.ledger import Intent, Ledger
from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import KeyForm, attempt_key, make_plan
from batchpay.providers.base import Answer, Disposition, PayoutRequest, Provider
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.send import Engine, RetryPolicy
from tests.conftest import FixedClock

NO_WAIT = RetryPolicy(max_tries=3, base_delay=0.01, max_delay=0.01)


def _setup(ledger_url: str, amounts: list[str]) -> Ledger:
    rows = [
        PayoutRow(i + 2, f"R{i}", Decimal(a), Decimal(a), Decimal(0), "USDT", "TRON", "TA")
        for i, a in enumerate(amounts)
    ]
    ledger = Ledger(ledger_url, clock=FixedClock())
    ledger.save_plan(
        make_plan("b", "sandbox", "s.csv", "", rows),
        sandbox=True,
        rounding="down",
        fee_option="deduct",
    )
    return ledger


def _engine(ledger: Ledger, provider: Provider, *, concurrency: int = 4) -> Engine:
    sleeps: list[float] = []
    engine = Engine(
        ledger=ledger,
        provider=provider,
        batch="b",
        retry=NO_WAIT,
        sleep=sleeps.append,
        concurrency=concurrency,
    )
    return engine


def _statuses(ledger: Ledger) -> list[RowStatus]:
    return [r.status for r in ledger.rows("b")]


class WitnessProvider(SandboxProvider):
    """Checks, from another connection, that the intent is committed when a request leaves."""

    def __init__(self, path: str) -> None:
        super().__init__(SandboxBank())
        self.path = path
        self.seen: list[tuple[str, str]] = []

    def create(self, request: PayoutRequest) -> Answer:
        with Ledger(self.path) as other:  # SQLite or PostgreSQL: another connection
            row = other._db.execute(
                "SELECT status, idempotency_key FROM payouts WHERE row_key = ?", (request.row_key,)
            ).one()
        self.seen.append(tuple(row))
        return super().create(request)


def test_every_request_leaves_after_its_intent_is_committed(
    tmp_path: Path, ledger_url: str
) -> None:
    ledger = _setup(ledger_url, [f"{i}.00" for i in range(1, 41)])
    provider = WitnessProvider(ledger_url)
    _engine(ledger, provider, concurrency=4).send_planned()
    assert len(provider.seen) == 40
    expected = {
        (str(RowStatus.SENDING), attempt_key(r.row_key, 1, KeyForm.UUID)) for r in ledger.rows("b")
    }
    assert set(provider.seen) == expected
    assert set(_statuses(ledger)) == {RowStatus.COMPLETED}


def test_lost_answers_are_resolved_by_lookup_never_resent_blind(
    tmp_path: Path, ledger_url: str
) -> None:
    ledger = _setup(ledger_url, ["1.00", "2.00", "3.00"])
    bank = SandboxBank()
    flaky = SandboxProvider(bank, faults=lambda action, req: "drop_after")
    _engine(ledger, flaky).send_planned()
    assert _statuses(ledger) == [RowStatus.UNKNOWN] * 3
    assert bank.count() == 3

    calm = SandboxProvider(bank)
    engine = _engine(ledger, calm)
    engine.settle()
    engine.send_planned()
    assert _statuses(ledger) == [RowStatus.COMPLETED] * 3
    assert bank.count() == 3 and engine.requests == 0  # found by lookup, nothing re-sent


def test_not_found_after_lookup_is_resent_with_the_same_key(
    tmp_path: Path, ledger_url: str
) -> None:
    ledger = _setup(ledger_url, ["1.00"])
    bank = SandboxBank()
    # crash after the intent commit, before the request: the row is left `sending`
    row = ledger.rows("b")[0]
    ledger.begin("b", [Intent(row.row_key, 1, attempt_key(row.row_key, 1, KeyForm.UUID))])
    assert _statuses(ledger) == [RowStatus.SENDING]
    engine = _engine(ledger, SandboxProvider(bank))
    engine.settle()
    assert _statuses(ledger) == [RowStatus.COMPLETED]
    assert bank.count() == 1 and engine.requests == 1
    creates = [a for a in ledger.attempts("b") if a.action == "create"]
    assert {a.idempotency_key for a in creates} == {attempt_key(row.row_key, 1, KeyForm.UUID)}


def test_not_sent_is_retried_then_left_planned(tmp_path: Path, ledger_url: str) -> None:
    ledger = _setup(ledger_url, ["1.00", "2.00"])
    tries: Counter[str] = Counter()

    def refuse_first(action: str, request: PayoutRequest) -> str | None:
        tries[request.reference] += 1
        if request.reference == "R1":
            return "drop_before"  # never gets through
        return "drop_before" if tries[request.reference] == 1 else None

    bank = SandboxBank()
    _engine(ledger, SandboxProvider(bank, faults=refuse_first)).send_planned()
    assert _statuses(ledger) == [RowStatus.COMPLETED, RowStatus.PLANNED]
    assert tries == {"R0": 2, "R1": NO_WAIT.max_tries}
    assert bank.count() == 1


class ScriptedProvider(SandboxProvider):
    def __init__(self, answers: list[Answer]) -> None:
        super().__init__(SandboxBank())
        self.answers = answers

    def create(self, request: PayoutRequest) -> Answer:
        return self.answers.pop(0)


def test_retry_with_same_key_that_runs_out_is_unknown(tmp_path: Path, ledger_url: str) -> None:
    ledger = _setup(ledger_url, ["1.00"])
    busy = Answer(RowStatus.UNKNOWN, Disposition.RETRY, http_status=503)
    engine = _engine(ledger, ScriptedProvider([busy] * NO_WAIT.max_tries))
    engine.send_planned()
    assert _statuses(ledger) == [RowStatus.UNKNOWN]
    assert engine.requests == NO_WAIT.max_tries


def test_a_crashing_adapter_loses_nothing(tmp_path: Path, ledger_url: str) -> None:
    class Broken(SandboxProvider):
        def create(self, request: PayoutRequest) -> Answer:
            raise KeyError("adapter bug")

    ledger = _setup(ledger_url, ["1.00"])
    _engine(ledger, Broken(SandboxBank())).send_planned()
    row = ledger.rows("b")[0]
    assert row.status is RowStatus.UNKNOWN and row.error_code == "internal_error"


def test_a_provider_holding_a_different_amount_needs_review(
    tmp_path: Path, ledger_url: str
) -> None:
    ledger = _setup(ledger_url, ["1.00"])
    other = Answer(
        RowStatus.COMPLETED, Disposition.ACCEPTED, provider_ref="p", amount=Decimal("100.00")
    )
    _engine(ledger, ScriptedProvider([other])).send_planned()
    row = ledger.rows("b")[0]
    assert row.status is RowStatus.NEEDS_REVIEW and "100.00" in (row.error_message or "")


def test_retry_sends_only_failed_rows_as_a_new_attempt(tmp_path: Path, ledger_url: str) -> None:
    ledger = _setup(ledger_url, ["1.00", "2.02", "3.03"])  # completed, failed, pending
    bank = SandboxBank()
    engine = _engine(ledger, SandboxProvider(bank))
    engine.send_planned()
    assert _statuses(ledger) == [RowStatus.COMPLETED, RowStatus.FAILED, RowStatus.PENDING]
    failed = ledger.rows("b")[1]
    engine.retry_failed()
    after = ledger.rows("b")[1]
    assert after.attempt_no == 2
    assert after.idempotency_key == attempt_key(failed.row_key, 2, KeyForm.UUID)
    assert after.idempotency_key != failed.idempotency_key
    assert bank.count() == 4  # one new payout, for the failed row only
    assert _statuses(ledger)[0] is RowStatus.COMPLETED and _statuses(ledger)[2] is RowStatus.PENDING


def test_outcomes_are_committed_in_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger_url: str
) -> None:
    ledger = _setup(ledger_url, [f"{i}.00" for i in range(1, 65)])
    commits = 0
    original = ledger.transaction

    def counting() -> AbstractContextManager[Any]:
        nonlocal commits
        commits += 1
        return original()

    monkeypatch.setattr(ledger, "transaction", counting)
    _engine(ledger, SandboxProvider(SandboxBank()), concurrency=4).send_planned()
    assert commits <= 64 // 2  # far fewer transactions (fsyncs) than requests


@pytest.mark.parametrize("concurrency", [1, 8])
def test_refresh_moves_pending_rows_only_forward(
    tmp_path: Path, concurrency: int, ledger_url: str
) -> None:
    ledger = _setup(ledger_url, ["1.03", "2.00"])
    engine = _engine(ledger, SandboxProvider(SandboxBank()), concurrency=concurrency)
    engine.send_planned()
    engine.refresh()
    assert _statuses(ledger) == [RowStatus.PENDING, RowStatus.COMPLETED]
    assert ledger.require_batch("b").refreshed_at is not None
