"""The ledger: one SQLite file or one PostgreSQL database, opened, upgraded and written through
SQLAlchemy Core, with one code path for both.

Its rooms, one job each: :mod:`.tables` (the records), :mod:`.queries` (the reads),
:mod:`.writeahead` (the write-ahead pair, begin and finish), :mod:`.callbacks` (provider
callbacks), :mod:`.planrows` (a plan's rows), :mod:`.migrate` (the schema). This module opens
the ledger and holds the writes of a batch's own record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from batchpay.errors import LedgerError
from batchpay.ledger import migrate
from batchpay.ledger.claims import Leases
from batchpay.ledger.connection import Db, open_engine
from batchpay.ledger.location import LedgerUrl, Location, parse_location
from batchpay.ledger.planrows import save_rows, upsert_batch
from batchpay.ledger.queries import Queries
from batchpay.ledger.rows import AttemptRecord, BatchInfo, Doubt, LedgerRow
from batchpay.ledger.writeahead import Intent, WriteAhead
from batchpay.problems import Problem
from batchpay.records import Check, Existing, LedgerView, Plan, recent_since

__all__ = ["AttemptRecord", "BatchInfo", "Doubt", "Intent", "Ledger", "LedgerRow"]

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


class Ledger(Queries, WriteAhead, Leases):
    """One ledger; safe to reopen at any time, from any later batchpay version.

    ``path`` is a file path (SQLite) or a ``postgresql://`` URL (a :class:`LedgerUrl` or its
    text). Every database error is a LedgerError."""

    def __init__(
        self, path: Location | str, *, clock: Clock = utc_now, create: bool = True
    ) -> None:
        self.where: Location = parse_location(path)
        self._clock = clock
        if not create and isinstance(self.where, Path) and not self.where.exists():
            raise LedgerError(f"no ledger at {self.where}")
        self._db = Db(open_engine(self.where), self.where)
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    @property
    def path(self) -> Location:
        """Where the ledger is (shown without a password: ``str(ledger.path)``)."""
        return self.where

    @property
    def shared(self) -> bool:
        """True for a database server that several processes share (PostgreSQL)."""
        return isinstance(self.where, LedgerUrl)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._db.dialect

    def _migrate(self) -> None:
        migrate.upgrade(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> str:
        return _iso(self._clock())

    @contextmanager
    def transaction(self) -> Iterator[Db]:
        """All or nothing, whatever interrupts it: an error (a full disk is a LedgerError, see
        :mod:`batchpay.ledger.connection`), Ctrl-C or SIGTERM rolls the transaction back.
        On SQLite it holds the write lock from its start (``BEGIN IMMEDIATE``)."""
        with self._db.transaction() as db:
            yield db

    # -- batches --------------------------------------------------------------------------

    def require_batch(self, batch_id: str) -> BatchInfo:
        info = self.batch(batch_id)
        if info is None:
            raise LedgerError(f"batch {batch_id!r} is not in the ledger {self.where}")
        return info

    def record_report(self, directory: Path, stamp: str, marks: Any, summary: Any) -> None:
        """Remember what the report files in ``directory`` show. A cache only: a read-only
        database role (enough for ``report``, README) records nothing, and the next report
        writes the files afresh."""
        if self.dialect == "postgresql" and not self._db.scalar(
            "SELECT has_table_privilege('report_stamps', 'INSERT')"
            " AND has_table_privilege('report_stamps', 'UPDATE')"
        ):
            return
        with self.transaction() as db:
            db.execute(
                "INSERT INTO report_stamps (directory, stamp, files_json, summary_json)"
                " VALUES (:d, :stamp, :files, :summary) ON CONFLICT(directory) DO UPDATE SET"
                " stamp = excluded.stamp, files_json = excluded.files_json,"
                " summary_json = excluded.summary_json",
                {
                    "d": str(directory.resolve()),
                    "stamp": stamp,
                    "files": json.dumps(marks, sort_keys=True),
                    "summary": json.dumps(summary),  # key order is the order it is shown in
                },
            )

    def mark_reconciled(self, batch_id: str, revision: int) -> None:
        """The provider's list matched every row at ``revision`` (batches has no revision
        trigger, so this does not change the revision it records)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE batches SET reconciled_revision = :rev WHERE batch_id = :b",
                {"rev": revision, "b": batch_id},
            )

    def mark_refreshed(self, batch_id: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE batches SET refreshed_at = :now WHERE batch_id = :b",
                {"now": self.now(), "b": batch_id},
            )

    # -- planning -------------------------------------------------------------------------

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
        the same rows between the check and the save: on SQLite the transaction holds the
        one write lock before the check reads; on PostgreSQL an advisory lock held to the
        commit lets one claim at a time check and save. ``check`` returns the problems, or
        raises to refuse (nothing is saved)."""
        with self.transaction() as db:
            if db.dialect == "postgresql":  # one claim at a time, across processes and hosts
                db.execute("SELECT pg_advisory_xact_lock(hashtext('batchpay claim'))")
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

    def flag_review(
        self, batch_id: str, row_key: str, reason: str, code: str = "reconcile_mismatch"
    ) -> None:
        """Put a row in front of a person, whatever its state: reconciliation found the
        provider's view and the ledger disagree (e.g. two payouts for one row)."""
        now = self.now()
        with self.transaction() as db:
            db.lock_batch(batch_id)  # the batch before its payout, as every writer
            row = db.execute(
                "SELECT attempt_no, idempotency_key FROM payouts"
                " WHERE batch_id = :b AND row_key = :r",
                {"b": batch_id, "r": row_key},
            ).fetchone()
            if row is None:
                return
            db.execute(
                "INSERT INTO attempts (batch_id, row_key, attempt_no, idempotency_key, action,"
                " started_at, finished_at, outcome, disposition, error_code, error_message)"
                " VALUES (:b, :r, :n, :k, 'reconcile', :now, :now, :status, 'flagged', :code,"
                " :reason)",
                {
                    "b": batch_id,
                    "r": row_key,
                    "n": row[0],
                    "k": row[1] or "",
                    "now": now,
                    "status": "needs_review",
                    "code": code,
                    "reason": reason,
                },
            )
            db.execute(
                "UPDATE payouts SET status = :status, error_code = :code,"
                " error_message = :reason, updated_at = :now"
                " WHERE batch_id = :b AND row_key = :r",
                {
                    "status": "needs_review",
                    "code": code,
                    "reason": reason,
                    "now": now,
                    "b": batch_id,
                    "r": row_key,
                },
            )
