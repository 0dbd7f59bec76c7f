"""Retries inside one attempt, in the ledger: every request that left is a record of its own.

An attempt's intent is committed before its first request leaves (``Ledger.begin``). When the
provider answers with something the engine retries under the same key (a 429, a 5xx it
deduplicates), the engine keeps each answered try, and ``Ledger.finish`` writes them with the
outcome, in the same transaction: the intent record becomes try 1, later tries get records
of their own (``try_no`` 2, 3 ...), and the outcome goes to the record of the last try.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from batchpay.ledger.connection import Db
from batchpay.model import RowStatus


@dataclass(frozen=True, slots=True)
class Try:
    """One request of an attempt that was answered and then retried with the same key (a
    429, a 5xx the provider deduplicates): recorded by :meth:`Ledger.finish`."""

    started_at: str
    finished_at: str
    http_status: int | None
    disposition: str
    error_code: str | None = None
    error_message: str | None = None
    request: Mapping[str, Any] | None = None  # already redacted
    response: Mapping[str, Any] | None = None  # already redacted
    provider_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Tries:
    """The requests of one attempt before the one its outcome comes from."""

    earlier: Sequence[Try]  # answered and retried, in order: tries 1 .. n-1
    last_started: str | None  # when try n left; None: the outcome came without a request


def record_tries(db: Db, attempt_id: int, tries: Tries, now: str) -> int:
    """Answer the intent record ``attempt_id`` with try 1, add a record for each later try,
    and return the id of a new record for the last try, which ``Ledger.finish`` answers
    with the attempt's outcome."""
    intent = db.run(
        "SELECT batch_id, row_key, attempt_no, idempotency_key, action, request_json"
        " FROM attempts WHERE id = :id",
        {"id": attempt_id},
    ).fetchone()
    assert intent is not None, f"no attempt record {attempt_id}"
    first, *rest = tries.earlier
    _answer_try(db, attempt_id, first)
    for number, later in enumerate(rest, start=2):
        _answer_try(db, _insert_try(db, intent, number, later.started_at), later)
    return _insert_try(db, intent, len(tries.earlier) + 1, tries.last_started or now)


def _insert_try(db: Db, intent: Sequence[Any], number: int, started: str) -> int:
    names = ("b", "r", "n", "k", "action", "request")
    return int(
        db.run(
            "INSERT INTO attempts (batch_id, row_key, attempt_no, idempotency_key, action,"
            " request_json, try_no, started_at) VALUES (:b, :r, :n, :k, :action, :request,"
            " :try_no, :started) RETURNING id",
            {**dict(zip(names, intent, strict=True)), "try_no": number, "started": started},
        ).fetchone()[0]
    )


def _answer_try(db: Db, attempt_id: int, t: Try) -> None:
    """A try that was retried left its row ``sending``: that is the outcome it records."""
    db.run(
        "UPDATE attempts SET request_json = COALESCE(:request, request_json),"
        " finished_at = :finished, http_status = :http, response_json = :response,"
        " outcome = :outcome, disposition = :disposition, error_code = :code,"
        " error_message = :message, provider_ref = :ref WHERE id = :id",
        {
            "request": None if t.request is None else _json(t.request),
            "finished": t.finished_at,
            "http": t.http_status,
            "response": None if t.response is None else _json(t.response),
            "outcome": str(RowStatus.SENDING),
            "disposition": t.disposition,
            "code": t.error_code,
            "message": t.error_message,
            "ref": t.provider_ref,
            "id": attempt_id,
        },
    )


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), sort_keys=True, default=str)  # as the ledger's own records
