"""The four-eyes records (revision 0007) and the web app's accounts (revision 0008) on both
backends: a submission replaces the last and voids approvals of another digest, the audit
chain links every entry to the one before, and two writers appending to one batch's chain at
once (PostgreSQL, several processes) never fork it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from batchpay.errors import UsageError
from batchpay.ledger import Ledger
from batchpay.ledger.fouryes import (
    GENESIS,
    Approval,
    Submission,
    append_audit,
    approvals,
    audit_entries,
    entry_hash,
    save_approval,
    save_submission,
    submission,
)
from batchpay.ledger.users import add_user, batch_ids, get_user, set_password_hash, web_secret
from tests.conftest import FixedClock


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    with Ledger(ledger_url, clock=FixedClock()) as opened:
        yield opened


def _submission(digest: str, preparer: str = "Alice") -> Submission:
    return Submission(
        "nov", digest, "sandbox", "deduct", '{"rows":[]}', '{"rows":[]}', preparer,
        "SHA256:alice", f"submit {digest}", "c2lnbmF0dXJl", "2026-11-01T09:00:00+00:00",
    )  # fmt: skip


def _approval(digest: str, approver: str) -> Approval:
    return Approval(
        0, "nov", digest, approver, f"SHA256:{approver}",
        f'{{"acks":["E-1"],"digest":"{digest}"}}', "c2ln", '["E-1"]', "cli",
        "2026-11-01T10:00:00+00:00", 0,
    )  # fmt: skip


def _chain_holds(entries: list[Any]) -> bool:
    prev = GENESIS
    for seq, e in enumerate(entries, start=1):
        again = entry_hash(prev, e.batch_id, e.seq, e.at, e.actor, e.action, e.payload_json)
        if (e.seq, e.prev_hash, e.hash) != (seq, prev, again):
            return False
        prev = e.hash
    return True


def test_a_submission_replaces_the_last_and_voids_approvals_of_another_digest(
    ledger: Ledger,
) -> None:
    assert submission(ledger, "nov") is None
    assert save_submission(ledger, _submission("a" * 64)) == 0
    save_approval(ledger, _approval("a" * 64, "Bob"))
    save_approval(ledger, _approval("a" * 64, "Carol"))
    stored = approvals(ledger, "nov", "a" * 64)
    assert [(a.approver, a.acks, a.via, a.void) for a in stored] == [
        ("Bob", ["E-1"], "cli", 0),
        ("Carol", ["E-1"], "cli", 0),
    ]
    assert stored[0].id < stored[1].id  # numbered by the database, oldest first
    assert submission(ledger, "nov") == _submission("a" * 64)
    assert save_submission(ledger, _submission("b" * 64, "Dave")) == 2  # both voided
    found = submission(ledger, "nov")
    assert found is not None and (found.digest, found.preparer) == ("b" * 64, "Dave")
    assert approvals(ledger, "nov") == [] and approvals(ledger, "other") == []


def test_audit_entries_chain_per_batch_and_read_back_as_written(ledger: Ledger) -> None:
    first = append_audit(ledger, "nov", "Alice", "submit", {"digest": "a" * 64, "n": 2})
    second = append_audit(ledger, "nov", "Bob", "approve", {"acks": ["E-1"], "name": "Zoë"})
    other = append_audit(ledger, "dec", "Alice", "plan", {})
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert (other.seq, other.prev_hash) == (1, GENESIS)  # one chain per batch
    entries = audit_entries(ledger, "nov")
    assert entries == [first, second] and _chain_holds(entries)
    assert entries[1].payload == {"acks": ["E-1"], "name": "Zoë"}
    assert audit_entries(ledger, "none") == []


def test_users_are_added_read_rehashed_and_never_added_twice(ledger: Ledger) -> None:
    alice = add_user(ledger, " alice ", "preparer", "$argon2id$one")
    assert alice.name == "alice" and get_user(ledger, "alice") == alice
    with pytest.raises(UsageError, match="already exists"):
        add_user(ledger, "alice", "viewer", "$argon2id$two")
    with pytest.raises(UsageError, match="unknown role"):
        add_user(ledger, "bob", "owner", "$argon2id$two")
    set_password_hash(ledger, "alice", "$argon2id$rehashed")
    found = get_user(ledger, "alice")
    assert found is not None and (found.role, found.password_hash) == (
        "preparer",
        "$argon2id$rehashed",
    )
    assert get_user(ledger, "nobody") is None
    made = iter(["first secret", "second secret"])
    assert web_secret(ledger, lambda: next(made)) == "first secret"
    assert web_secret(ledger, lambda: next(made)) == "first secret"  # made once, kept
    assert batch_ids(ledger) == []


class _Paused:
    """Writer A's connection: after it has read the chain's head it waits for ``go``."""

    def __init__(self, ledger: Ledger) -> None:
        self.read_head = threading.Event()
        self.go = threading.Event()
        self._execute = ledger._db.execute
        ledger._db.execute = self  # type: ignore[method-assign]

    def __call__(self, sql: Any, params: Any = None) -> Any:
        result = self._execute(sql, params)
        if not isinstance(sql, str) and "audit_entries" in str(sql) and "SELECT" in str(sql):
            self.read_head.set()
            assert self.go.wait(60)
        return result


def _waiting_on_a_lock(ledger: Ledger) -> bool:
    return bool(
        ledger._db.scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
    )


def test_two_writers_appending_to_one_chain_at_once_never_fork_it(pg_url: str) -> None:
    a, b, watcher = (Ledger(pg_url, clock=FixedClock()) for _ in range(3))
    paused = _Paused(a)
    try:
        done: dict[str, Any] = {}
        first = threading.Thread(
            target=lambda: done.update(a=append_audit(a, "nov", "Alice", "submit", {}))
        )
        first.start()
        assert paused.read_head.wait(60)  # A holds the batch and has read an empty chain
        second = threading.Thread(
            target=lambda: done.update(b=append_audit(b, "nov", "Bob", "approve", {}))
        )
        second.start()
        while not _waiting_on_a_lock(watcher):  # B waits for A's batch lock
            assert second.is_alive()
            threading.Event().wait(0.01)
        paused.go.set()
        first.join(60)
        second.join(60)
        assert (done["a"].seq, done["b"].seq) == (1, 2)
        assert done["b"].prev_hash == done["a"].hash
        entries = audit_entries(watcher, "nov")
        assert [e.actor for e in entries] == ["Alice", "Bob"] and _chain_holds(entries)
    finally:
        paused.go.set()
        for opened in (a, b, watcher):
            opened.close()
