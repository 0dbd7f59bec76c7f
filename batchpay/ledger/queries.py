"""The ledger's reads: typed rows of batches, payouts and attempts, the same SQL on SQLite and
PostgreSQL (the one difference, in :meth:`Queries.doubtful_payouts`, is named there)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from batchpay.ledger.connection import Db, records
from batchpay.ledger.rows import AttemptRecord, BatchInfo, Doubt, LedgerRow
from batchpay.model import UNSETTLED, RowStatus
from batchpay.records import CLAIMED, Existing, Recent


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def extra(text: str) -> dict[str, str]:
    return {} if text == "{}" else dict(json.loads(text))


_LEDGER_ROW_TYPES: dict[str, Callable[[Any], Any]] = {  # the payouts columns stored as text
    "extra": extra,
    "amount_requested": Decimal,
    "amount": Decimal,
    "rounding_delta": Decimal,
    "status": RowStatus,
    "fee": _dec,
    "amount_sent": _dec,
}


_ROW_COLUMNS = (  # named as LedgerRow's fields
    "batch_id, row_key, sheet_row, reference, name, description, currency, network, address,"
    " memo, extra_json AS extra, amount_requested, amount, rounding_delta, status, attempt_no,"
    " idempotency_key, provider_ref, fee, amount_sent, tx_hash, error_code, error_message,"
    " updated_at, lease_owner, lease_until"
)

# the listing a reconciliation matches, one temporary table per connection
_LISTING = {
    "sqlite": (
        "CREATE TEMP TABLE listing (key TEXT NOT NULL, ref TEXT)",
        "CREATE INDEX temp.listing_key ON listing(key)",
        "group_concat(COALESCE(l.ref, '?'), :sep)",
    ),
    "postgresql": (
        "CREATE TEMP TABLE listing (key TEXT NOT NULL, ref TEXT)",
        "CREATE INDEX listing_key ON listing(key)",
        "string_agg(COALESCE(l.ref, '?'), :sep)",
    ),
}


class Queries:
    """Reads, on the ledger's connection (inside the caller's transaction, if any)."""

    _db: Db
    where: Any

    def batch(self, batch_id: str) -> BatchInfo | None:
        result = self._db.execute(
            "SELECT batch_id, provider, sandbox, sheet_name, sheet_sha256, rounding, fee_option,"
            " created_at, last_run_at, refreshed_at FROM batches WHERE batch_id = :b",
            {"b": batch_id},
        )
        found = records(BatchInfo, result, {"sandbox": bool})
        return found[0] if found else None

    def plan_digest(self, batch_id: str) -> str | None:
        found = self._db.scalar(
            "SELECT plan_digest FROM batches WHERE batch_id = :b", {"b": batch_id}
        )
        return None if found is None else str(found)

    def revision(self, batch_id: str) -> int:
        """Bumped by every change to the batch's rows or attempts (a trigger, migration 003)."""
        found = self._db.scalar("SELECT revision FROM batches WHERE batch_id = :b", {"b": batch_id})
        return 0 if found is None else int(found)

    def reconciled_revision(self, batch_id: str) -> int | None:
        found = self._db.scalar(
            "SELECT reconciled_revision FROM batches WHERE batch_id = :b", {"b": batch_id}
        )
        return None if found is None else int(found)

    def report_stamp(self, directory: Path) -> tuple[str, Any, Any] | None:
        """(stamp, file marks, summary) recorded when the reports in ``directory`` were
        last written."""
        row = self._db.execute(
            "SELECT stamp, files_json, summary_json FROM report_stamps WHERE directory = :d",
            {"d": str(directory.resolve())},
        ).fetchone()
        return None if row is None else (row[0], json.loads(row[1]), json.loads(row[2]))

    def first_create(self, batch_id: str) -> str | None:
        """When the oldest create request of the batch started."""
        return self._db.scalar(  # type: ignore[no-any-return]
            "SELECT MIN(started_at) FROM attempts WHERE batch_id = :b AND action = 'create'",
            {"b": batch_id},
        )

    def last_create(self, batch_id: str) -> str | None:
        """When the newest create request of the batch started."""
        return self._db.scalar(  # type: ignore[no-any-return]
            "SELECT MAX(started_at) FROM attempts WHERE batch_id = :b AND action = 'create'",
            {"b": batch_id},
        )

    def existing(self, batch_id: str) -> dict[str, Existing]:
        result = self._db.execute(
            "SELECT row_key, reference, status, attempt_no > 0 AS sent_before, amount, currency,"
            " network, address, memo, extra_json AS extra FROM payouts WHERE batch_id = :b",
            {"b": batch_id},
        )
        convert: dict[str, Callable[[Any], Any]] = {
            "status": RowStatus,
            "sent_before": bool,
            "amount": Decimal,
            "extra": extra,
        }
        return {e.row_key: e for e in records(Existing, result, convert)}

    def rows(self, batch_id: str, statuses: Iterable[RowStatus] | None = None) -> list[LedgerRow]:
        sql = f"SELECT {_ROW_COLUMNS} FROM payouts WHERE batch_id = :b"
        params: dict[str, Any] = {"b": batch_id}
        if statuses is not None:
            sql += " AND status IN :in_statuses"
            params["in_statuses"] = [str(s) for s in statuses]
        sql += " ORDER BY sheet_row, row_key"
        return records(LedgerRow, self._db.execute(sql, params), _LEDGER_ROW_TYPES)

    def last_update(self, batch_id: str) -> str:
        found = self._db.scalar(
            "SELECT MAX(updated_at) FROM payouts WHERE batch_id = :b", {"b": batch_id}
        )
        return str(found or "")

    def attempts(self, batch_id: str, row_key: str | None = None) -> list[AttemptRecord]:
        sql = (
            "SELECT id, row_key, attempt_no, idempotency_key, action, started_at, finished_at,"
            " http_status, outcome, disposition, error_code, error_message, provider_ref, try_no"
            " FROM attempts WHERE batch_id = :b"
        )
        params: dict[str, Any] = {"b": batch_id}
        if row_key is not None:
            sql += " AND row_key = :r"
            params["r"] = row_key
        return records(AttemptRecord, self._db.execute(sql + " ORDER BY id", params))

    def recent_payments(
        self, batch_id: str, since: str, sandbox: bool | None = None
    ) -> list[Recent]:
        """Rows *other* batches of the same kind (sandbox: this batch's; None reads it) have
        claimed since ``since``: paid, in flight, or planned and about to be sent."""
        result = self._db.execute(
            "SELECT p.batch_id AS batch, p.reference, p.status, p.amount, p.currency, p.network,"
            " p.address, p.memo, p.extra_json AS extra FROM payouts p JOIN batches b USING"
            " (batch_id) WHERE p.batch_id != :b AND p.updated_at >= :since AND b.sandbox ="
            " COALESCE(CAST(:sandbox AS INTEGER),"
            " (SELECT sandbox FROM batches WHERE batch_id = :b), 0)"
            " AND p.status IN :in_claimed",
            {
                "b": batch_id,
                "since": since,
                "sandbox": None if sandbox is None else int(sandbox),
                "in_claimed": [str(s) for s in CLAIMED],
            },
        )
        return records(Recent, result, {"status": RowStatus, "amount": Decimal, "extra": extra})

    def doubtful_payouts(
        self, batch_id: str, live: Iterable[tuple[str, str | None]]
    ) -> list[Doubt]:
        """Match the provider's live payouts, as (key, provider ref), to this batch's rows
        and return only the rows where the two disagree: more than one live payout for the
        row, or a settled row whose payout the ledger does not know. The database does the
        matching, so a 100k-row batch costs a temporary table, not 100k Python objects.
        SQLite and PostgreSQL differ in the name of the string aggregate only."""
        db = self._db
        create, index, concat = _LISTING["sqlite" if db.dialect == "sqlite" else "postgresql"]
        with db.transaction():  # one transaction for the whole list; it writes only temp
            db.execute("DROP TABLE IF EXISTS listing")
            db.execute(create)
            db.executemany(
                "INSERT INTO listing (key, ref) VALUES (:k, :r)",
                [{"k": key, "r": ref} for key, ref in live],
            )
            db.execute(index)
            found = db.execute(
                f"SELECT o.row_key, p.status, p.provider_ref, COUNT(*), {concat}"
                " FROM listing l"
                " JOIN (SELECT DISTINCT idempotency_key, row_key FROM attempts"
                "       WHERE batch_id = :b AND action = 'create') o"
                "   ON o.idempotency_key = l.key"
                " JOIN payouts p ON p.batch_id = :b AND p.row_key = o.row_key"
                " GROUP BY o.row_key, p.status, p.provider_ref"
                " HAVING COUNT(*) > 1 OR (p.status NOT IN :in_unsettled"
                "        AND (p.provider_ref IS NULL OR MIN(l.ref) IS NULL"
                "             OR p.provider_ref != MIN(l.ref))"
                "        AND NOT (p.provider_ref IS NULL AND MIN(l.ref) IS NULL))",
                {"b": batch_id, "sep": "\x1f", "in_unsettled": [str(s) for s in UNSETTLED]},
            ).fetchall()
            db.execute("DROP TABLE listing")
        return [
            Doubt(row_key, RowStatus(status), ref, int(count), sorted(refs.split("\x1f")))
            for row_key, status, ref, count, refs in found
        ]
