"""The write-ahead pair: :meth:`WriteAhead.begin` commits an attempt's intent before its
request leaves, :meth:`WriteAhead.finish` records the answer. Between the two, a crash leaves
the row ``sending``, which is resolved with the provider before anything is sent again.

A new attempt (a ``create`` intent with a new attempt number) forgets the old attempt's payout
(its ref, fee, money sent and hash): a trigger keeps that on both backends (migration 005 on
SQLite, ``tables.POSTGRESQL_TRIGGERS`` on PostgreSQL), so no write path can forget it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from batchpay.errors import LedgerError
from batchpay.ledger.connection import Db
from batchpay.ledger.outcome import Outcome
from batchpay.ledger.rules import judge
from batchpay.ledger.tries import Tries, record_tries
from batchpay.model import RowStatus
from batchpay.money import to_wire


@dataclass(frozen=True, slots=True)
class Intent:
    """About to send: committed before the request leaves."""

    row_key: str
    attempt_no: int
    idempotency_key: str
    action: str = "create"  # or "lookup"
    request: Mapping[str, Any] = field(default_factory=dict)  # already redacted


# A create request may only start from these (unknown/sending: after the provider said "not there").
_MAY_SEND = [
    str(s) for s in (RowStatus.PLANNED, RowStatus.FAILED, RowStatus.UNKNOWN, RowStatus.SENDING)
]


def as_json(data: Mapping[str, Any]) -> str:
    # Decimals from provider answers are kept as exact strings.
    return json.dumps(dict(data), sort_keys=True, default=str)


def _wire(value: Decimal | None) -> str | None:
    return None if value is None else to_wire(value)


_INSERT_INTENT = (
    "INSERT INTO attempts (batch_id, row_key, attempt_no, idempotency_key, action,"
    " started_at, request_json) VALUES (:b, :r, :n, :k, :action, :now, :request) RETURNING id"
)
_MOVE_TO_SENDING = (
    "UPDATE payouts SET status = :sending, attempt_no = :n, idempotency_key = :k,"
    " error_code = NULL, error_message = NULL, updated_at = :now"
    " WHERE batch_id = :b AND row_key = :r"
    f" AND status IN ({', '.join(repr(s) for s in _MAY_SEND)})"
)
_ANSWER = (
    "UPDATE attempts SET request_json = COALESCE(:request, request_json),"
    " finished_at = :now, http_status = :http, response_json = :response,"
    " outcome = :outcome, disposition = :disposition, error_code = :code,"
    " error_message = :message, provider_ref = :ref WHERE id = :id"
)
_MOVE = (
    "UPDATE payouts SET status = :status, provider_ref = COALESCE(:ref, provider_ref),"
    " fee = COALESCE(:fee, fee), amount_sent = COALESCE(:sent, amount_sent),"
    " tx_hash = COALESCE(:tx, tx_hash), error_code = :code, error_message = :message,"
    " updated_at = :now WHERE batch_id = :b AND row_key = :r"
)


class WriteAhead:
    """begin / record_tries / finish, each one transaction (one fsync for the group)."""

    _db: Db

    def now(self) -> str:
        raise NotImplementedError

    def begin(self, batch_id: str, intents: list[Intent]) -> list[int]:
        """Commit intents (one transaction, one fsync for the group); return attempt ids.

        A ``create`` intent moves its row to ``sending`` with the attempt's key: from here on a
        crash leaves a row that must be resolved before it may be sent again. Raises
        LedgerError (and commits nothing) when a create's row is not in a sendable state."""
        now = self.now()
        ids: list[int] = []
        with self._db.transaction() as db:
            db.lock_batch(batch_id)
            for intent in intents:
                row = {
                    "b": batch_id,
                    "r": intent.row_key,
                    "n": intent.attempt_no,
                    "k": intent.idempotency_key,
                    "now": now,
                }
                ids.append(
                    int(
                        db.run(
                            _INSERT_INTENT,
                            {**row, "action": intent.action, "request": as_json(intent.request)},
                        ).fetchone()[0]
                    )
                )
                if intent.action != "create":
                    continue
                moved = db.run(
                    _MOVE_TO_SENDING,
                    {**row, "sending": str(RowStatus.SENDING)},
                ).rowcount
                if moved != 1:
                    raise LedgerError(
                        f"refusing to send row {intent.row_key}: it is not in a sendable state"
                    )
        return ids

    def record_tries(self, batch_id: str, tries: Mapping[int, Tries]) -> dict[int, int]:
        """Record the requests of attempts that were retried before the one whose answer is
        their outcome (one transaction): the intent record becomes try 1, each later try a
        record of its own. Return, by intent id, the record of the last try, unanswered, to
        ``finish`` with the outcome (a crash in between leaves it in flight, the row
        ``sending``, as a crash before any answer does)."""
        now = self.now()
        with self._db.transaction() as db:
            db.lock_batch(batch_id)
            return {
                attempt_id: record_tries(db, attempt_id, retried, now)
                for attempt_id, retried in tries.items()
                if retried.earlier
            }

    def finish(self, batch_id: str, outcomes: list[Outcome]) -> None:
        """Record answers (one transaction). A row never leaves a final state here."""
        if not outcomes:
            return
        now = self.now()
        with self._db.transaction() as db:
            db.lock_batch(batch_id)
            for o in outcomes:
                db.run(
                    _ANSWER,
                    {
                        "request": None if o.request is None else as_json(o.request),
                        "now": now,
                        "http": o.http_status,
                        "response": None if o.response is None else as_json(o.response),
                        "outcome": None if o.status is None else str(o.status),
                        "disposition": o.disposition,
                        "code": o.error_code,
                        "message": o.error_message,
                        "ref": o.provider_ref,
                        "id": o.attempt_id,
                    },
                )
                _apply(db, batch_id, o, now)


def _apply(db: Db, batch_id: str, o: Outcome, now: str) -> None:
    """Move the row as the engine's answer says, where :func:`judge` allows it."""
    found = db.run(
        "SELECT p.status, p.attempt_no, a.attempt_no FROM payouts p, attempts a"
        " WHERE p.batch_id = :b AND p.row_key = :r AND a.id = :id",
        {"b": batch_id, "r": o.row_key, "id": o.attempt_id},
    ).fetchone()
    if found is None or o.status is None:
        return
    verdict = judge(
        RowStatus(found[0]),
        found[1],
        found[2],
        o.status,
        from_engine=True,
        provider_ref=o.provider_ref,
    )
    if verdict.status is None:
        return
    review = verdict.status is not o.status  # accepted after the row was failed
    db.run(
        _MOVE,
        {
            "status": str(verdict.status),
            "ref": o.provider_ref,
            "fee": _wire(o.fee),
            "sent": _wire(o.amount_sent),
            "tx": o.tx_hash,
            "code": verdict.code if review else o.error_code,
            "message": verdict.reason if review else o.error_message,
            "now": now,
            "b": batch_id,
            "r": o.row_key,
        },
    )
