"""The ledger's writes of a plan: the batch's own row, and one payout row per planned row
(new rows inserted as planned; rows not yet sent refreshed from the sheet)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from batchpay.ledger.connection import Db
from batchpay.model import RowStatus
from batchpay.money import to_wire
from batchpay.records import Existing, Plan


def upsert_batch(
    db: Db,
    plan: Plan,
    *,
    sandbox: bool,
    rounding: str,
    fee_option: str,
    now: str,
) -> None:
    """Create the batch, or note this run of it."""
    digest = plan.digest
    db.execute(
        "INSERT INTO batches (batch_id, provider, sandbox, sheet_name, sheet_sha256,"
        " rounding, fee_option, created_at, last_run_at, plan_digest)"
        " VALUES (:b, :provider, :sandbox, :sheet, :sha, :rounding, :fee_option, :now, :now,"
        " :digest)"
        " ON CONFLICT(batch_id) DO UPDATE SET last_run_at = excluded.last_run_at,"
        " sheet_name = excluded.sheet_name, sheet_sha256 = excluded.sheet_sha256,"
        " plan_digest = excluded.plan_digest",
        {
            "b": plan.batch,
            "provider": plan.provider,
            "sandbox": int(sandbox),
            "sheet": plan.sheet_name,
            "sha": plan.sheet_sha256,
            "rounding": rounding,
            "fee_option": fee_option,
            "now": now,
            "digest": digest,
        },
    )


_COLUMNS = (
    "sheet_row",
    "reference",
    "name",
    "description",
    "currency",
    "network",
    "address",
    "memo",
    "extra_json",
    "amount_requested",
    "amount",
    "rounding_delta",
    "updated_at",
)
_INSERT = (
    f"INSERT INTO payouts ({', '.join(_COLUMNS)}, batch_id, row_key, status)"
    f" VALUES ({', '.join(':' + c for c in _COLUMNS)}, :batch_id, :row_key, :status)"
)
_UPDATE = (
    f"UPDATE payouts SET {', '.join(f'{c} = :{c}' for c in _COLUMNS)}"
    " WHERE batch_id = :batch_id AND row_key = :row_key"
)


def save_rows(db: Db, plan: Plan, existing: Mapping[str, Existing], now: str) -> int:
    """Write the plan's rows that were never sent (new ones inserted in one statement);
    the number of new ones."""
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    for item in plan.items:
        p = item.payout
        old = existing.get(item.row_key)
        if old is not None and old.sent_before:
            continue
        values: dict[str, object] = {
            "sheet_row": p.row,
            "reference": p.reference,
            "name": p.name,
            "description": p.description,
            "currency": p.currency,
            "network": p.network,
            "address": p.address,
            "memo": p.memo,
            "extra_json": json.dumps(dict(p.extra), sort_keys=True),
            "amount_requested": to_wire(p.amount_requested),
            "amount": to_wire(p.amount),
            "rounding_delta": to_wire(p.rounding_delta),
            "updated_at": now,
            "batch_id": plan.batch,
            "row_key": item.row_key,
        }
        if old is None:
            inserts.append({**values, "status": str(RowStatus.PLANNED)})
        else:
            updates.append(values)
    db.executemany(_INSERT, inserts)
    db.executemany(_UPDATE, updates)
    return len(inserts)
