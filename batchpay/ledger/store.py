"""The SQLite ledger: schema migrations, typed reads, and the two write-ahead transactions."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from batchpay.errors import LedgerError
from batchpay.ledger.connection import connect, records, rollback
from batchpay.ledger.outcome import Outcome
from batchpay.ledger.planrows import save_rows, upsert_batch
from batchpay.ledger.rules import judge
from batchpay.ledger.tries import Tries, record_tries
from batchpay.model import UNSETTLED, PayoutDetails, PayoutRow, RowStatus
from batchpay.money import to_wire
from batchpay.problems import Problem
from batchpay.records import CLAIMED, Check, Existing, LedgerView, Plan, Recent, recent_since

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _json(data: Mapping[str, Any]) -> str:
    # Decimals from provider answers are kept as exact strings.
    return json.dumps(dict(data), sort_keys=True, default=str)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _wire(value: Decimal | None) -> str | None:
    return None if value is None else to_wire(value)


def _extra(text: str) -> dict[str, str]:
    return {} if text == "{}" else dict(json.loads(text))


_LEDGER_ROW_TYPES: dict[str, Callable[[Any], Any]] = {  # the payouts columns stored as text
    "extra": _extra,
    "amount_requested": Decimal,
    "amount": Decimal,
    "rounding_delta": Decimal,
    "status": RowStatus,
    "fee": _dec,
    "amount_sent": _dec,
}


@dataclass(frozen=True, slots=True)
class Doubt:
    """A row the provider's own list disagrees with (see Ledger.doubtful_payouts)."""

    row_key: str
    status: RowStatus
    provider_ref: str | None
    live: int  # live payouts the provider holds for this row
    live_refs: list[str]


@dataclass(frozen=True, slots=True)
class BatchInfo:
    batch_id: str
    provider: str
    sandbox: bool
    sheet_name: str
    sheet_sha256: str
    rounding: str
    fee_option: str
    created_at: str
    last_run_at: str
    refreshed_at: str | None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    batch_id: str
    row_key: str
    sheet_row: int
    reference: str
    name: str | None
    description: str | None
    currency: str
    network: str | None
    address: str | None
    memo: str | None
    extra: Mapping[str, str]
    amount_requested: Decimal
    amount: Decimal
    rounding_delta: Decimal
    status: RowStatus
    attempt_no: int
    idempotency_key: str | None
    provider_ref: str | None
    fee: Decimal | None
    amount_sent: Decimal | None
    tx_hash: str | None
    error_code: str | None
    error_message: str | None
    updated_at: str

    def as_payout(self) -> PayoutRow:
        """The sheet row this ledger row was planned from."""
        return PayoutRow(
            row=self.sheet_row,
            amount_requested=self.amount_requested,
            rounding_delta=self.rounding_delta,
            **PayoutDetails.of(self).as_kwargs(),
        )


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    id: int
    row_key: str
    attempt_no: int
    idempotency_key: str
    action: str
    started_at: str
    finished_at: str | None
    http_status: int | None
    outcome: str | None
    disposition: str | None
    error_code: str | None
    error_message: str | None
    provider_ref: str | None
    try_no: int = 1  # which request of its attempt record's (row, attempt, key): 1, 2 ...


@dataclass(frozen=True, slots=True)
class Intent:
    """About to send: committed before the request leaves."""

    row_key: str
    attempt_no: int
    idempotency_key: str
    action: str = "create"  # or "lookup"
    request: Mapping[str, Any] = field(default_factory=dict)  # already redacted


# A create request may only start from these (unknown/sending: after the provider said "not there").
_MAY_SEND = (RowStatus.PLANNED, RowStatus.FAILED, RowStatus.UNKNOWN, RowStatus.SENDING)


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("batchpay.ledger.migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Ledger:
    """One SQLite file; safe to reopen at any time, from any later batchpay version."""

    def __init__(self, path: Path, *, clock: Clock = utc_now, create: bool = True) -> None:
        self.path = Path(path)
        self._clock = clock
        if not create and not self.path.exists():
            raise LedgerError(f"no ledger at {self.path}")
        self._db: sqlite3.Connection = connect(self.path)  # sqlite errors -> LedgerError
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> str:
        return _iso(self._clock())

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing, whatever interrupts it: an error (a full disk is a LedgerError, see
        :mod:`batchpay.ledger.connection`), Ctrl-C or SIGTERM rolls the transaction back."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            rollback(self._db)
            raise

    def _migrate(self) -> None:
        current = self._db.execute("PRAGMA user_version").fetchone()[0]
        migrations = _migrations()
        latest = migrations[-1][0]
        if current > latest:
            raise LedgerError(
                f"{self.path} was written by a newer batchpay (schema {current}); upgrade batchpay"
            )
        for version, script in migrations:
            if version > current:
                self._db.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={version};\nCOMMIT;"
                )

    # -- batches --------------------------------------------------------------------------

    def batch(self, batch_id: str) -> BatchInfo | None:
        cursor = self._db.execute(
            "SELECT batch_id, provider, sandbox, sheet_name, sheet_sha256, rounding, fee_option,"
            " created_at, last_run_at, refreshed_at FROM batches WHERE batch_id = ?",
            (batch_id,),
        )
        found = records(BatchInfo, cursor, {"sandbox": bool})
        return found[0] if found else None

    def require_batch(self, batch_id: str) -> BatchInfo:
        info = self.batch(batch_id)
        if info is None:
            raise LedgerError(f"batch {batch_id!r} is not in the ledger {self.path}")
        return info

    def plan_digest(self, batch_id: str) -> str | None:
        row = self._db.execute(
            "SELECT plan_digest FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        return None if row is None else row[0]

    def revision(self, batch_id: str) -> int:
        """Bumped by every change to the batch's rows or attempts (migration 003)."""
        row = self._db.execute(
            "SELECT revision FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def report_stamp(self, directory: Path) -> tuple[str, Any, Any] | None:
        """(stamp, file marks, summary) recorded when the reports in ``directory`` were
        last written."""
        row = self._db.execute(
            "SELECT stamp, files_json, summary_json FROM report_stamps WHERE directory = ?",
            (str(directory.resolve()),),
        ).fetchone()
        return None if row is None else (row[0], json.loads(row[1]), json.loads(row[2]))

    def record_report(self, directory: Path, stamp: str, marks: Any, summary: Any) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO report_stamps (directory, stamp, files_json, summary_json)"
                " VALUES (?,?,?,?) ON CONFLICT(directory) DO UPDATE SET stamp = excluded.stamp,"
                " files_json = excluded.files_json, summary_json = excluded.summary_json",
                (
                    str(directory.resolve()),
                    stamp,
                    json.dumps(marks, sort_keys=True),
                    json.dumps(summary),  # key order is the order it is shown in
                ),
            )

    def reconciled_revision(self, batch_id: str) -> int | None:
        row = self._db.execute(
            "SELECT reconciled_revision FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        return None if row is None else row[0]

    def mark_reconciled(self, batch_id: str, revision: int) -> None:
        """The provider's list matched every row at ``revision`` (batches has no revision
        trigger, so this does not change the revision it records)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE batches SET reconciled_revision = ? WHERE batch_id = ?",
                (revision, batch_id),
            )

    def first_create(self, batch_id: str) -> str | None:
        """When the oldest create request of the batch started."""
        row = self._db.execute(
            "SELECT MIN(started_at) FROM attempts WHERE batch_id = ? AND action = 'create'",
            (batch_id,),
        ).fetchone()
        return None if row is None else row[0]

    def last_create(self, batch_id: str) -> str | None:
        """When the newest create request of the batch started."""
        row = self._db.execute(
            "SELECT MAX(started_at) FROM attempts WHERE batch_id = ? AND action = 'create'",
            (batch_id,),
        ).fetchone()
        return None if row is None else row[0]

    def mark_refreshed(self, batch_id: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE batches SET refreshed_at = ? WHERE batch_id = ?", (self.now(), batch_id)
            )

    # -- planning -------------------------------------------------------------------------

    def existing(self, batch_id: str) -> dict[str, Existing]:
        rows = self._db.execute(
            "SELECT row_key, reference, status, attempt_no > 0 AS sent_before, amount, currency,"
            " network, address, memo, extra_json AS extra FROM payouts WHERE batch_id = ?",
            (batch_id,),
        )
        convert: dict[str, Callable[[Any], Any]] = {
            "status": RowStatus,
            "sent_before": bool,
            "amount": Decimal,
            "extra": _extra,
        }
        return {e.row_key: e for e in records(Existing, rows, convert)}

    def view(self, plan: Plan, since: str | None = None) -> LedgerView:
        """What the preflight checks need from the ledger (read in the caller's transaction,
        if any): this batch's rows, unless it holds this very plan already, and the rows
        other batches claimed since ``since``."""
        unchanged = self.plan_digest(plan.batch) == plan.digest
        return LedgerView(
            existing=None if unchanged else self.existing(plan.batch),
            recent=self.recent_payments(
                plan.batch, since or recent_since(), sandbox=plan.provider == "sandbox"
            ),
        )

    def claim(
        self,
        plan: Plan,
        check: Check,
        *,
        sandbox: bool,
        rounding: str,
        fee_option: str,
    ) -> list[Problem]:
        """Check the plan and save it in one write transaction, so no other run can claim
        the same rows between the check and the save: SQLite admits one writer at a time,
        and the check reads the ledger only after this transaction holds that lock.
        ``check`` returns the problems, or raises to refuse (nothing is saved)."""
        with self.transaction():
            view = self.view(plan)
            problems = check(view)
            self._save_plan(
                plan,
                sandbox=sandbox,
                rounding=rounding,
                fee_option=fee_option,
                existing=view.existing,
                unchanged=view.existing is None,
            )
        return problems

    def save_plan(
        self,
        plan: Plan,
        *,
        sandbox: bool,
        rounding: str,
        fee_option: str,
        existing: Mapping[str, Existing] | None = None,
    ) -> int:
        """Record the batch and its new rows as ``planned``; return how many rows were new.

        Rows never sent are refreshed from the sheet; rows already sent are left as they are
        (the planner has refused any changed details before this is called).
        """
        unchanged = self.plan_digest(plan.batch) == plan.digest
        if existing is None and not unchanged:
            existing = self.existing(plan.batch)
        with self.transaction():
            return self._save_plan(
                plan,
                sandbox=sandbox,
                rounding=rounding,
                fee_option=fee_option,
                existing=existing,
                unchanged=unchanged,
            )

    def _save_plan(
        self,
        plan: Plan,
        *,
        sandbox: bool,
        rounding: str,
        fee_option: str,
        existing: Mapping[str, Existing] | None,
        unchanged: bool,
    ) -> int:
        """save_plan's writes, inside the caller's transaction."""
        now = self.now()
        upsert_batch(
            self._db, plan, sandbox=sandbox, rounding=rounding, fee_option=fee_option, now=now
        )
        if unchanged:  # every row was saved from this very plan already
            return 0
        assert existing is not None
        return save_rows(self._db, plan, existing, now)

    # -- reading --------------------------------------------------------------------------

    _ROW_COLUMNS = (  # named as LedgerRow's fields
        "batch_id, row_key, sheet_row, reference, name, description, currency, network, address,"
        " memo, extra_json AS extra, amount_requested, amount, rounding_delta, status, attempt_no,"
        " idempotency_key, provider_ref, fee, amount_sent, tx_hash, error_code, error_message,"
        " updated_at"
    )

    def rows(self, batch_id: str, statuses: Iterable[RowStatus] | None = None) -> list[LedgerRow]:
        sql = f"SELECT {self._ROW_COLUMNS} FROM payouts WHERE batch_id = ?"
        params: list[Any] = [batch_id]
        if statuses is not None:
            wanted = list(statuses)
            sql += f" AND status IN ({','.join('?' * len(wanted))})"
            params += wanted
        sql += " ORDER BY sheet_row, row_key"
        return records(LedgerRow, self._db.execute(sql, params), _LEDGER_ROW_TYPES)

    def last_update(self, batch_id: str) -> str:
        row = self._db.execute(
            "SELECT MAX(updated_at) FROM payouts WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        return str(row[0] or "")

    def doubtful_payouts(
        self, batch_id: str, live: Iterable[tuple[str, str | None]]
    ) -> list[Doubt]:
        """Match the provider's live payouts, as (key, provider ref), to this batch's rows
        and return only the rows where the two disagree: more than one live payout for the
        row, or a settled row whose payout the ledger does not know. SQLite does the
        matching, so a 100k-row batch costs a temporary table, not 100k Python objects."""
        db = self._db
        db.execute("DROP TABLE IF EXISTS temp.listing")
        db.execute("BEGIN")  # one transaction for the whole list; it touches only temp
        try:
            db.execute("CREATE TEMP TABLE listing (key TEXT NOT NULL, ref TEXT)")
            db.executemany("INSERT INTO temp.listing VALUES (?, ?)", live)
            db.execute("CREATE INDEX temp.listing_key ON listing(key)")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        found = db.execute(
            "SELECT o.row_key, p.status, p.provider_ref, COUNT(*),"
            " group_concat(COALESCE(l.ref, '?'), '\x1f'), MIN(l.ref)"
            " FROM temp.listing l"
            " JOIN (SELECT DISTINCT idempotency_key, row_key FROM attempts"
            "       WHERE batch_id = ? AND action = 'create') o ON o.idempotency_key = l.key"
            " JOIN payouts p ON p.batch_id = ? AND p.row_key = o.row_key"
            " GROUP BY o.row_key"
            f" HAVING COUNT(*) > 1 OR (p.status NOT IN ({','.join('?' * len(UNSETTLED))})"
            "        AND p.provider_ref IS NOT MIN(l.ref))",
            (batch_id, batch_id, *UNSETTLED),
        ).fetchall()
        db.execute("DROP TABLE temp.listing")
        return [
            Doubt(row_key, RowStatus(status), ref, count, sorted(refs.split("\x1f")))
            for row_key, status, ref, count, refs, _ in found
        ]

    def attempts(self, batch_id: str, row_key: str | None = None) -> list[AttemptRecord]:
        sql = (
            "SELECT id, row_key, attempt_no, idempotency_key, action, started_at, finished_at,"
            " http_status, outcome, disposition, error_code, error_message, provider_ref, try_no"
            " FROM attempts WHERE batch_id = ?"
        )
        params: list[Any] = [batch_id]
        if row_key is not None:
            sql += " AND row_key = ?"
            params.append(row_key)
        return records(AttemptRecord, self._db.execute(sql + " ORDER BY id", params))

    def recent_payments(
        self, batch_id: str, since: str, sandbox: bool | None = None
    ) -> list[Recent]:
        """Rows *other* batches of the same kind (sandbox: this batch's; None reads it) have
        claimed since ``since``: paid, in flight, or planned and about to be sent."""
        rows = self._db.execute(
            "SELECT p.batch_id AS batch, p.reference, p.status, p.amount, p.currency, p.network,"
            " p.address, p.memo, p.extra_json AS extra FROM payouts p JOIN batches b USING"
            " (batch_id) WHERE p.batch_id != ? AND p.updated_at >= ? AND b.sandbox = COALESCE(?,"
            " (SELECT sandbox FROM batches WHERE batch_id = ?), 0) AND p.status IN"
            f" ({','.join('?' * len(CLAIMED))})",
            (batch_id, since, None if sandbox is None else int(sandbox), batch_id, *CLAIMED),
        )
        return records(Recent, rows, {"status": RowStatus, "amount": Decimal, "extra": _extra})

    def flag_review(
        self, batch_id: str, row_key: str, reason: str, code: str = "reconcile_mismatch"
    ) -> None:
        """Put a row in front of a person, whatever its state: reconciliation found the
        provider's view and the ledger disagree (e.g. two payouts for one row)."""
        now = self.now()
        with self.transaction() as db:
            row = db.execute(
                "SELECT attempt_no, idempotency_key FROM payouts"
                " WHERE batch_id = ? AND row_key = ?",
                (batch_id, row_key),
            ).fetchone()
            if row is None:
                return
            db.execute(
                "INSERT INTO attempts (batch_id, row_key, attempt_no, idempotency_key, action,"
                " started_at, finished_at, outcome, disposition, error_code, error_message)"
                " VALUES (?,?,?,?,'reconcile',?,?,?,?,?,?)",
                (
                    batch_id,
                    row_key,
                    row[0],
                    row[1] or "",
                    now,
                    now,
                    RowStatus.NEEDS_REVIEW,
                    "flagged",
                    code,
                    reason,
                ),
            )
            db.execute(
                "UPDATE payouts SET status = ?, error_code = ?,"
                " error_message = ?, updated_at = ? WHERE batch_id = ? AND row_key = ?",
                (RowStatus.NEEDS_REVIEW, code, reason, now, batch_id, row_key),
            )

    # -- the write-ahead pair -------------------------------------------------------------

    def begin(self, batch_id: str, intents: list[Intent]) -> list[int]:
        """Commit intents (one transaction, one fsync for the group); return attempt ids.

        A ``create`` intent moves its row to ``sending`` with the attempt's key: from here on a
        crash leaves a row that must be resolved before it may be sent again.
        """
        now = self.now()
        ids: list[int] = []
        with self.transaction() as db:
            for intent in intents:
                cursor = db.execute(
                    "INSERT INTO attempts (batch_id, row_key, attempt_no, idempotency_key, action,"
                    " started_at, request_json) VALUES (?,?,?,?,?,?,?)",
                    (
                        batch_id,
                        intent.row_key,
                        intent.attempt_no,
                        intent.idempotency_key,
                        intent.action,
                        now,
                        _json(intent.request),
                    ),
                )
                assert cursor.lastrowid is not None
                ids.append(cursor.lastrowid)
                if intent.action == "create":
                    updated = db.execute(
                        "UPDATE payouts SET status = ?, attempt_no = ?, idempotency_key = ?,"
                        " error_code = NULL, error_message = NULL, updated_at = ?"
                        " WHERE batch_id = ? AND row_key = ? AND status IN (?,?,?,?)",
                        (
                            RowStatus.SENDING,
                            intent.attempt_no,
                            intent.idempotency_key,
                            now,
                            batch_id,
                            intent.row_key,
                            *_MAY_SEND,
                        ),
                    ).rowcount
                    if updated != 1:
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
        with self.transaction() as db:
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
        with self.transaction() as db:
            for o in outcomes:
                db.execute(
                    "UPDATE attempts SET request_json = COALESCE(?, request_json),"
                    " finished_at = ?, http_status = ?, response_json = ?,"
                    " outcome = ?, disposition = ?, error_code = ?, error_message = ?,"
                    " provider_ref = ? WHERE id = ?",
                    (
                        None if o.request is None else _json(o.request),
                        now,
                        o.http_status,
                        None if o.response is None else _json(o.response),
                        o.status,
                        o.disposition,
                        o.error_code,
                        o.error_message,
                        o.provider_ref,
                        o.attempt_id,
                    ),
                )
                self._apply(db, batch_id, o, now)

    def _apply(self, db: sqlite3.Connection, batch_id: str, o: Outcome, now: str) -> None:
        """Move the row as the engine's answer says, where :func:`judge` allows it."""
        found = db.execute(
            "SELECT p.status, p.attempt_no, a.attempt_no FROM payouts p, attempts a"
            " WHERE p.batch_id = ? AND p.row_key = ? AND a.id = ?",
            (batch_id, o.row_key, o.attempt_id),
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
        db.execute(
            "UPDATE payouts SET status = ?, provider_ref = COALESCE(?, provider_ref),"
            " fee = COALESCE(?, fee), amount_sent = COALESCE(?, amount_sent),"
            " tx_hash = COALESCE(?, tx_hash), error_code = ?, error_message = ?, updated_at = ?"
            " WHERE batch_id = ? AND row_key = ?",
            (
                verdict.status,
                o.provider_ref,
                _wire(o.fee),
                _wire(o.amount_sent),
                o.tx_hash,
                verdict.code if review else o.error_code,
                verdict.reason if review else o.error_message,
                now,
                batch_id,
                o.row_key,
            ),
        )
