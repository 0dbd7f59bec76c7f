"""The ledger's writes of a plan: the batch's own row, and one payout row per planned row
(new rows inserted as planned; rows not yet sent refreshed from the sheet)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping

from batchpay.model import RowStatus
from batchpay.money import to_wire
from batchpay.records import Existing, Plan


def upsert_batch(
    db: sqlite3.Connection,
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
        " VALUES (?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(batch_id) DO UPDATE SET last_run_at = excluded.last_run_at,"
        " sheet_name = excluded.sheet_name, sheet_sha256 = excluded.sheet_sha256,"
        " plan_digest = excluded.plan_digest",
        (
            plan.batch,
            plan.provider,
            int(sandbox),
            plan.sheet_name,
            plan.sheet_sha256,
            rounding,
            fee_option,
            now,
            now,
            digest,
        ),
    )


def save_rows(
    db: sqlite3.Connection, plan: Plan, existing: Mapping[str, Existing], now: str
) -> int:
    """Write the plan's rows that were never sent; the number of new ones."""
    new = 0
    for item in plan.items:
        p = item.payout
        old = existing.get(item.row_key)
        if old is not None and old.sent_before:
            continue
        values = (
            p.row,
            p.reference,
            p.name,
            p.description,
            p.currency,
            p.network,
            p.address,
            p.memo,
            json.dumps(dict(p.extra), sort_keys=True),
            to_wire(p.amount_requested),
            to_wire(p.amount),
            to_wire(p.rounding_delta),
            now,
        )
        if old is None:
            new += 1
            db.execute(
                "INSERT INTO payouts (sheet_row, reference, name, description, currency,"
                " network, address, memo, extra_json, amount_requested, amount,"
                " rounding_delta, updated_at, batch_id, row_key, status)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*values, plan.batch, item.row_key, RowStatus.PLANNED),
            )
        else:
            db.execute(
                "UPDATE payouts SET sheet_row=?, reference=?, name=?, description=?,"
                " currency=?, network=?, address=?, memo=?, extra_json=?,"
                " amount_requested=?, amount=?, rounding_delta=?, updated_at=?"
                " WHERE batch_id=? AND row_key=?",
                (*values, plan.batch, item.row_key),
            )
    return new
