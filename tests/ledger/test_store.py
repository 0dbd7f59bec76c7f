from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from batchpay.errors import BatchLocked, LedgerError
from batchpay.ledger import Intent, Ledger, Outcome, batch_lock
from batchpay.ledger.rules import may_move
from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import Plan, make_plan
from batchpay.providers.base import Answer, Disposition
from tests.conftest import FixedClock


def _plan(amounts: list[str]) -> Plan:
    rows = [
        PayoutRow(i + 2, f"R{i}", Decimal(a), Decimal(a), Decimal(0), "USDT", "TRON", "TA")
        for i, a in enumerate(amounts)
    ]
    return make_plan("b1", "sandbox", "s.csv", "ab" * 32, rows)


def _ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "l.sqlite", clock=FixedClock())


def test_pragmas_and_schema_version(tmp_path: Path) -> None:
    with _ledger(tmp_path) as ledger:
        db = ledger._db
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA user_version").fetchone()[0] == 8  # 008_web_keys.sql


def test_an_older_ledger_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    from importlib import resources

    first = resources.files("batchpay.ledger.migrations").joinpath("001_init.sql").read_text()
    db.executescript(first + "\nPRAGMA user_version = 1;")
    db.execute(
        "INSERT INTO batches VALUES ('b','sandbox',1,'s.csv','x','down','deduct','t','t',NULL)"
    )
    db.execute(
        "INSERT INTO attempts (batch_id, row_key, attempt_no, idempotency_key, action,"
        " started_at) VALUES ('b', 'r', 1, 'k', 'create', 't')"
    )
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        assert ledger._db.execute("PRAGMA user_version").fetchone()[0] == 8
        assert ledger.require_batch("b").provider == "sandbox"  # nothing lost
        assert [a.try_no for a in ledger.attempts("b")] == [1]  # a record from before tries
        assert ledger._db.execute("SELECT COUNT(*) FROM webhook_events").fetchone() == (0,)
        assert ledger.revision("b") == 0


def test_a_newer_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(LedgerError, match="newer batchpay"):
        Ledger(path)
    with pytest.raises(LedgerError, match="no ledger"):
        Ledger(tmp_path / "absent.sqlite", create=False)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LedgerError, match="not a usable"):
        Ledger(garbage)


def test_plan_is_saved_once_and_amounts_stay_exact(tmp_path: Path) -> None:
    plan = _plan(["1.10", "0.000000000000000001"])
    with _ledger(tmp_path) as ledger:
        assert ledger.save_plan(plan, sandbox=True, rounding="down", fee_option="deduct") == 2
        assert ledger.save_plan(plan, sandbox=True, rounding="down", fee_option="deduct") == 0
        rows = ledger.rows("b1")
        assert [str(r.amount) for r in rows] == ["1.10", "1E-18"]
        assert {r.status for r in rows} == {RowStatus.PLANNED}
        assert ledger.require_batch("b1").sheet_sha256 == "ab" * 32
        with pytest.raises(LedgerError, match="not in the ledger"):
            ledger.require_batch("other")


def test_intent_is_durable_before_the_answer(tmp_path: Path) -> None:
    plan = _plan(["5"])
    key = plan.items[0].row_key
    with _ledger(tmp_path) as ledger:
        ledger.save_plan(plan, sandbox=True, rounding="down", fee_option="deduct")
        (attempt_id,) = ledger.begin("b1", [Intent(key, 1, "k-1", "create", {"amount": "5"})])
        # a second connection (another process after a crash) sees the intent already
        other = sqlite3.connect(tmp_path / "l.sqlite")
        assert other.execute("SELECT status, idempotency_key FROM payouts").fetchone() == (
            "sending",
            "k-1",
        )
        assert other.execute("SELECT outcome FROM attempts").fetchone() == (None,)
        ledger.finish(
            "b1",
            [
                Outcome(
                    attempt_id,
                    key,
                    RowStatus.COMPLETED,
                    "accepted",
                    Answer(RowStatus.COMPLETED, Disposition.ACCEPTED, provider_ref="p1"),
                    amount_sent=Decimal("5"),
                )
            ],
        )
        assert other.execute("SELECT status, provider_ref FROM payouts").fetchone() == (
            "completed",
            "p1",
        )
        other.close()


def test_sending_is_refused_for_rows_that_are_paid_or_in_flight(tmp_path: Path) -> None:
    plan = _plan(["5"])
    key = plan.items[0].row_key
    with _ledger(tmp_path) as ledger:
        ledger.save_plan(plan, sandbox=True, rounding="down", fee_option="deduct")
        (aid,) = ledger.begin("b1", [Intent(key, 1, "k-1")])
        ledger.finish("b1", [Outcome(aid, key, RowStatus.PENDING)])
        with pytest.raises(LedgerError, match="not in a sendable state"):
            ledger.begin("b1", [Intent(key, 1, "k-1")])
        assert ledger.rows("b1")[0].status is RowStatus.PENDING


def test_final_states_are_never_left_through_an_outcome(tmp_path: Path) -> None:
    plan = _plan(["5"])
    key = plan.items[0].row_key
    with _ledger(tmp_path) as ledger:
        ledger.save_plan(plan, sandbox=True, rounding="down", fee_option="deduct")
        (aid,) = ledger.begin("b1", [Intent(key, 1, "k-1")])
        ledger.finish("b1", [Outcome(aid, key, RowStatus.COMPLETED)])
        (lookup,) = ledger.begin("b1", [Intent(key, 1, "k-1", "lookup")])
        ledger.finish("b1", [Outcome(lookup, key, RowStatus.PENDING)])
        assert ledger.rows("b1")[0].status is RowStatus.COMPLETED
        assert [a.outcome for a in ledger.attempts("b1")] == ["completed", "pending"]


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (RowStatus.SENDING, RowStatus.UNKNOWN, True),
        (RowStatus.UNKNOWN, RowStatus.COMPLETED, True),
        (RowStatus.PENDING, RowStatus.COMPLETED, True),
        (RowStatus.PENDING, RowStatus.UNKNOWN, False),
        (RowStatus.PENDING, RowStatus.PLANNED, False),
        (RowStatus.COMPLETED, RowStatus.FAILED, False),
        (RowStatus.FAILED, RowStatus.COMPLETED, False),
        (RowStatus.CANCELLED, RowStatus.PENDING, False),
        (RowStatus.NEEDS_REVIEW, RowStatus.COMPLETED, False),
        (RowStatus.PLANNED, RowStatus.PENDING, False),
    ],
)
def test_transition_table(current: RowStatus, new: RowStatus, allowed: bool) -> None:
    assert may_move(current, new) is allowed


def test_one_process_per_batch(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    with batch_lock(ledger, "b1"):
        with pytest.raises(BatchLocked, match="another batchpay process"), batch_lock(ledger, "b1"):
            pass
        with batch_lock(ledger, "b2"):  # other batches are independent
            pass
    with batch_lock(ledger, "b1"):  # released
        pass
