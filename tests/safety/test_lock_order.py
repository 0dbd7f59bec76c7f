"""Every writer of a batch locks the batch's row before any of its payouts (PostgreSQL), so a
provider callback and a worker's intent commit on the same rows never deadlock. Each
interleaving is driven by a gate: one transaction stops inside, holding its locks; the test
waits until the other is seen waiting for a lock on the server, then lets the first go on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from batchpay.keys import KeyForm, attempt_key
from batchpay.ledger import Intent, Ledger, Outcome, apply_callback
from batchpay.statuses import RowStatus
from tests.safety.test_workers import _plan

HANG = 60  # seconds: only a broken test waits this long


def _stop_at(
    ledger: Ledger,
    method: str,
    starts: str,
    nth: int,
    reached: threading.Event,
    go: threading.Event,
) -> None:
    """Make ``ledger``'s connection stop before the ``nth`` statement starting with
    ``starts`` (run through ``method``, "execute" or "run") until ``go`` is set."""
    db = ledger._db
    original: Callable[..., Any] = getattr(db, method)
    seen = [0]

    def stopping(sql: str, params: Any = None) -> Any:
        if sql.startswith(starts):
            seen[0] += 1
            if seen[0] == nth:
                reached.set()
                assert go.wait(HANG)
        return original(sql, params)

    setattr(db, method, stopping)


def _waits_for_a_lock(url: str, count: int = 1) -> None:
    """Return once ``count`` sessions of the database wait for a lock (polled, no margin)."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            for _ in range(HANG * 100):
                waiting = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    )
                ).scalar()
                if waiting and waiting >= count:
                    return
                conn.execute(sa.text("SELECT pg_sleep(0.01)"))  # a poll, not a margin
    finally:
        engine.dispose()
    raise AssertionError("the second transaction never waited for the first's lock")


def _sent_once_and_failed(url: str) -> tuple[str, str]:
    """A batch whose first row was sent as attempt 1 (payout ref-1) and failed, so a new
    attempt may be sent; return (row key, key of attempt 2)."""
    with Ledger(url) as ledger:
        _plan(ledger, 3)
        row = ledger.rows("b")[0].row_key
        key = attempt_key(row, 1, KeyForm.UUID)
        (aid,) = ledger.begin("b", [Intent(row, 1, key)])
        ledger.finish("b", [Outcome(aid, row, RowStatus.FAILED)])
        ledger._db.execute("UPDATE attempts SET provider_ref = 'ref-1' WHERE id = :i", {"i": aid})
        return row, attempt_key(row, 2, KeyForm.UUID)


def _run(work: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    def target() -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread


@pytest.mark.parametrize("first", ["callback", "intent"])
def test_a_callback_and_an_intent_commit_never_deadlock(pg_url: str, first: str) -> None:
    row, key2 = _sent_once_and_failed(pg_url)
    others = [r.row_key for r in Ledger(pg_url).rows("b")[1:]]
    callback_ledger, worker_ledger = Ledger(pg_url), Ledger(pg_url)
    gate = reached, go = threading.Event(), threading.Event()
    if first == "callback":  # stops holding the batch, before it touches the payout
        _stop_at(callback_ledger, "execute", "SELECT status, attempt_no FROM payouts", 1, *gate)
    else:  # stops holding the batch and another row's intent, before this row's intent
        _stop_at(worker_ledger, "run", "INSERT INTO attempts", 2, *gate)
    errors: list[BaseException] = []
    results: list[object] = []

    def callback() -> None:
        results.append(apply_callback(callback_ledger, "2328io", "ref-1", RowStatus.FAILED, "ev-1"))

    def intent() -> None:
        worker_ledger.begin("b", [Intent(others[0], 1, "k-other"), Intent(row, 2, key2)])

    stopping, other = (callback, intent) if first == "callback" else (intent, callback)
    threads = [_run(stopping, errors)]
    assert reached.wait(HANG), errors
    threads.append(_run(other, errors))
    _waits_for_a_lock(pg_url)  # the second waits for the batch the first holds
    go.set()
    for thread in threads:
        thread.join(HANG)
        assert not thread.is_alive()
    callback_ledger.close()
    worker_ledger.close()
    assert errors == []  # no deadlock (nor any other) error on either side
    with Ledger(pg_url) as ledger:
        sent = ledger.rows("b")[0]
        assert (sent.row_key, sent.status, sent.attempt_no) == (row, RowStatus.SENDING, 2)
        webhook = [a for a in ledger.attempts("b", row) if a.action == "webhook"]
        assert [a.attempt_no for a in webhook] == [1]  # recorded on the attempt it names
        assert ledger.rows("b")[1].status is RowStatus.SENDING
