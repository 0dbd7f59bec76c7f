"""Provider callbacks into the ledger: each verified event is applied once, to the attempt
whose payout it names, under the same rules as the engine's answers (:mod:`.rules`)."""

from __future__ import annotations

from enum import StrEnum

from batchpay.ledger.connection import Db
from batchpay.ledger.rules import Verdict, judge
from batchpay.ledger.store import Ledger
from batchpay.model import ACCEPTED, RowStatus


class CallbackResult(StrEnum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # known payout, status not moved (same, or the row is final)
    DUPLICATE = "duplicate"  # this event was applied before
    UNKNOWN_PAYOUT = "unknown_payout"
    OLD_ATTEMPT = "old_attempt"  # about an earlier attempt's payout: recorded, never applied
    IN_FLIGHT = "in_flight"  # the row is being sent: recorded; the engine's answer decides
    NEEDS_REVIEW = "needs_review"  # accepted after the row failed: put in front of a person


_NOT_APPLIED = {
    "old_attempt": CallbackResult.OLD_ATTEMPT,
    "row_in_flight": CallbackResult.IN_FLIGHT,
}


def _attempt_named(db: Db, provider: str, provider_ref: str) -> tuple[str, str, int, str] | None:
    """(batch, row, attempt number, key) of the attempt the provider gave this payout ref to:
    matched on the attempts, never on the row's current ref, which a retry replaces."""
    found = db.execute(
        "SELECT a.batch_id, a.row_key, a.attempt_no, a.idempotency_key FROM attempts a"
        " JOIN batches b ON b.batch_id = a.batch_id"
        " WHERE a.provider_ref = :ref AND b.provider = :provider"
        " AND a.action IN ('create', 'lookup')"
        " ORDER BY CASE WHEN a.action = 'create' THEN 0 ELSE 1 END, a.id LIMIT 1",
        {"ref": provider_ref, "provider": provider},
    ).fetchone()
    return None if found is None else (found[0], found[1], int(found[2]), found[3])


def apply_callback(
    ledger: Ledger,
    provider: str,
    provider_ref: str,
    status: RowStatus,
    event_id: str,
    tx_hash: str | None = None,
    message: str | None = None,
) -> CallbackResult:
    """Apply a verified provider callback once. Always recorded as an attempt of action
    ``webhook``; it moves the row only when it names the row's current attempt, the row is
    not in flight, and the transition table allows it (never out of a final state)."""
    now = ledger.now()
    with ledger.transaction() as db:
        named = _attempt_named(db, provider, provider_ref)
        if named is None:
            return CallbackResult.UNKNOWN_PAYOUT
        if not _first_delivery(db, provider, event_id, now):
            return CallbackResult.DUPLICATE
        batch_id, row_key, attempt_no, key = named
        db.lock_batch(batch_id)  # the batch before its payout, as every writer
        current, verdict = _judge_row(db, named, provider_ref, status)
        moved = verdict.status is not None and verdict.status != current
        _record(
            db,
            (batch_id, row_key, attempt_no, key),
            provider_ref,
            status,
            verdict,
            moved,
            message,
            now,
        )
        if not moved:
            return _NOT_APPLIED.get(verdict.code or "", CallbackResult.UNCHANGED)
        assert verdict.status is not None
        _move(db, batch_id, row_key, provider_ref, status, verdict, tx_hash, message, now)
        if verdict.status is RowStatus.NEEDS_REVIEW:
            return CallbackResult.NEEDS_REVIEW
        return CallbackResult.UPDATED


def _first_delivery(db: Db, provider: str, event_id: str, now: str) -> bool:
    """Note the event as received; False when it was received before."""
    inserted = db.execute(
        "INSERT INTO webhook_events (provider, event_id, received_at)"
        " VALUES (:provider, :event, :now) ON CONFLICT DO NOTHING",
        {"provider": provider, "event": event_id, "now": now},
    ).rowcount
    return bool(inserted != 0)


def _judge_row(
    db: Db,
    named: tuple[str, str, int, str],
    provider_ref: str,
    status: RowStatus,
) -> tuple[str, Verdict]:
    """(the row's current status, what the callback does to it)."""
    batch_id, row_key, attempt_no, _key = named
    current, row_attempt = db.execute(
        "SELECT status, attempt_no FROM payouts WHERE batch_id = :b AND row_key = :r",
        {"b": batch_id, "r": row_key},
    ).one()
    verdict = judge(
        RowStatus(current),
        row_attempt,
        attempt_no,
        status,
        from_engine=False,
        provider_ref=provider_ref,
    )
    return current, verdict


def _record(
    db: Db,
    attempt: tuple[str, str, int, str],
    provider_ref: str,
    status: RowStatus,
    verdict: Verdict,
    moved: bool,
    message: str | None,
    now: str,
) -> None:
    """The audit record of the callback, on the attempt it is about, applied or not."""
    batch_id, row_key, attempt_no, key = attempt
    applied = moved and verdict.status is status
    said = message if applied else "; ".join(x for x in (verdict.reason, message) if x)
    db.execute(
        "INSERT INTO attempts (batch_id, row_key, attempt_no, idempotency_key, action,"
        " started_at, finished_at, outcome, disposition, provider_ref, error_code,"
        " error_message) VALUES (:b, :r, :n, :k, 'webhook', :now, :now, :outcome,"
        " :disposition, :ref, :code, :message)",
        {
            "b": batch_id,
            "r": row_key,
            "n": attempt_no,
            "k": key or "",
            "now": now,
            "outcome": str(status),
            "disposition": "applied" if applied else ("flagged" if moved else "not_applied"),
            "ref": provider_ref,
            "code": None if applied else verdict.code,
            "message": said or None,
        },
    )


def _move(
    db: Db,
    batch_id: str,
    row_key: str,
    provider_ref: str,
    status: RowStatus,
    verdict: Verdict,
    tx_hash: str | None,
    message: str | None,
    now: str,
) -> None:
    if verdict.status is RowStatus.NEEDS_REVIEW:
        code, text = verdict.code, verdict.reason
    elif status is RowStatus.FAILED:
        code, text = "failed", message
    else:
        code, text = None, None
    db.execute(
        "UPDATE payouts SET status = :status, provider_ref = :ref,"
        " tx_hash = COALESCE(:tx, tx_hash),"
        " amount_sent = CASE WHEN :accepted = 1 THEN COALESCE(amount_sent, amount)"
        " ELSE amount_sent END,"
        " error_code = :code, error_message = :message, updated_at = :now"
        " WHERE batch_id = :b AND row_key = :r",
        {
            "status": str(verdict.status),
            "ref": provider_ref,
            "tx": tx_hash,
            "accepted": int(status in ACCEPTED),
            "code": code,
            "message": text,
            "now": now,
            "b": batch_id,
            "r": row_key,
        },
    )
