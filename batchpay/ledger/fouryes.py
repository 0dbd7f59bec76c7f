"""Four eyes in the ledger (migration 006): a batch's submitted plan, the approvals signed over
its digest, and the batch's hash-chained audit log.

Plain records and writes, each in the ledger's own transaction. What a signature means and
who may sign is :mod:`batchpay.approvals`; this module only stores and reads.

The audit chain: entry ``seq`` of a batch stores ``hash = SHA-256(prev_hash + canonical)``,
where ``canonical`` is the UTF-8 JSON (sorted keys, no whitespace) of its batch, seq, time,
actor, action and payload, and ``prev_hash`` is the hash of entry ``seq - 1`` (64 zeros for the
first). Changing, removing or reordering an entry breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from batchpay.ledger.store import Ledger
from batchpay.model import PayoutRow, Rounding
from batchpay.money import to_wire
from batchpay.records import Plan, PlannedPayout

GENESIS = "0" * 64


@dataclass(frozen=True)
class Submission:
    batch_id: str
    digest: str
    provider: str
    fee_option: str
    canonical: str
    plan_json: str
    preparer: str
    fingerprint: str
    statement: str
    signature: str
    submitted_at: str

    def plan(self) -> Plan:
        return plan_from_json(self.plan_json)


@dataclass(frozen=True)
class Approval:
    id: int
    batch_id: str
    digest: str
    approver: str
    fingerprint: str
    statement: str
    signature: str
    acks_json: str
    via: str
    approved_at: str
    void: int

    @property
    def acks(self) -> list[str]:
        """The references named (from the signed statement; empty when unreadable)."""
        try:
            data = json.loads(self.statement).get("acks", [])
        except (AttributeError, TypeError, ValueError):
            return []
        return [str(a) for a in data] if isinstance(data, list) else []


@dataclass(frozen=True)
class AuditEntry:
    batch_id: str
    seq: int
    at: str
    actor: str
    action: str
    payload_json: str
    prev_hash: str
    hash: str

    @property
    def payload(self) -> dict[str, Any]:
        """The payload; empty when it is not a JSON object (a tampered entry, which the
        chain check reports)."""
        try:
            data = json.loads(self.payload_json)
        except (TypeError, ValueError):
            return {}
        return dict(data) if isinstance(data, dict) else {}


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    prev_hash: str, batch: str, seq: int, at: str, actor: str, action: str, payload_json: str
) -> str:
    """The hash an audit entry stores (see the module text)."""
    entry = {
        "batch": batch,
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "payload": json.loads(payload_json),
    }
    return hashlib.sha256((prev_hash + canonical_json(entry)).encode("utf-8")).hexdigest()


# -- the plan as stored -------------------------------------------------------------------


def plan_to_json(plan: Plan) -> str:
    """Everything needed to pay ``plan`` again without its sheet."""
    rows = [
        {
            "row_key": i.row_key,
            **{k: _text(getattr(i.payout, k)) for k in PayoutRow.__slots__ if k != "extra"},
            "extra": dict(i.payout.extra),
        }
        for i in plan.items
    ]
    roundings = [{k: _text(getattr(r, k)) for k in Rounding.__slots__} for r in plan.roundings]
    head = {
        "batch": plan.batch,
        "provider": plan.provider,
        "sheet_name": plan.sheet_name,
        "sheet_sha256": plan.sheet_sha256,
    }
    return canonical_json({**head, "rows": rows, "roundings": roundings})


def _text(value: Any) -> Any:
    return to_wire(value) if isinstance(value, Decimal) else value


_MONEY = ("amount_requested", "amount", "rounding_delta", "requested", "rounded", "delta")


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    return {k: Decimal(v) if k in _MONEY else v for k, v in row.items()}


def plan_from_json(text: str) -> Plan:
    """The plan :func:`plan_to_json` stored; ValueError when the text is not one."""
    try:
        return _plan_from_json(text)
    except (ArithmeticError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the stored plan is unreadable ({type(exc).__name__})") from None


def _plan_from_json(text: str) -> Plan:
    data = json.loads(text)
    items = []
    for row in data["rows"]:
        key = row.pop("row_key")
        items.append(PlannedPayout(key, PayoutRow(**_typed(row))))
    roundings = [Rounding(**_typed(r)) for r in data["roundings"]]
    return Plan(
        data["batch"], data["provider"], data["sheet_name"], data["sheet_sha256"], items, roundings
    )


# -- writes -------------------------------------------------------------------------------


def save_submission(ledger: Ledger, s: Submission) -> int:
    """Record ``s`` as the batch's submission, replacing an earlier one; approvals of any
    other digest become void. Returns how many approvals were voided."""
    with ledger.transaction() as db:
        voided = db.execute(
            "UPDATE approvals SET void = 1 WHERE batch_id = ? AND digest != ? AND void = 0",
            (s.batch_id, s.digest),
        ).rowcount
        db.execute("DELETE FROM submissions WHERE batch_id = ?", (s.batch_id,))
        db.execute(
            "INSERT INTO submissions (batch_id, digest, provider, fee_option, canonical,"
            " plan_json, preparer, fingerprint, statement, signature, submitted_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                s.batch_id,
                s.digest,
                s.provider,
                s.fee_option,
                s.canonical,
                s.plan_json,
                s.preparer,
                s.fingerprint,
                s.statement,
                s.signature,
                s.submitted_at,
            ),
        )
    return int(voided)


def save_approval(ledger: Ledger, a: Approval) -> None:
    with ledger.transaction() as db:
        db.execute(
            "INSERT INTO approvals (batch_id, digest, approver, fingerprint, statement,"
            " signature, acks_json, via, approved_at, void) VALUES (?,?,?,?,?,?,?,?,?,0)",
            (
                a.batch_id,
                a.digest,
                a.approver,
                a.fingerprint,
                a.statement,
                a.signature,
                a.acks_json,
                a.via,
                a.approved_at,
            ),
        )


def append_audit(
    ledger: Ledger, batch: str, actor: str, action: str, payload: dict[str, Any]
) -> AuditEntry:
    """Append one entry to the batch's chain (in one transaction: two writers never fork it)."""
    payload_json = canonical_json(payload)
    at = ledger.now()
    with ledger.transaction() as db:
        last = db.execute(
            "SELECT seq, hash FROM audit_entries WHERE batch_id = ? ORDER BY seq DESC LIMIT 1",
            (batch,),
        ).fetchone()
        seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
        digest = entry_hash(prev, batch, seq, at, actor, action, payload_json)
        db.execute(
            "INSERT INTO audit_entries (batch_id, seq, at, actor, action, payload_json,"
            " prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
            (batch, seq, at, actor, action, payload_json, prev, digest),
        )
    return AuditEntry(batch, seq, at, actor, action, payload_json, prev, digest)


# -- reads --------------------------------------------------------------------------------


def submission(ledger: Ledger, batch: str) -> Submission | None:
    cursor = ledger._db.execute(  # the ledger package's own connection
        "SELECT batch_id, digest, provider, fee_option, canonical, plan_json, preparer,"
        " fingerprint, statement, signature, submitted_at FROM submissions WHERE batch_id = ?",
        (batch,),
    )
    row = cursor.fetchone()
    return None if row is None else Submission(*row)


def approvals(ledger: Ledger, batch: str, digest: str | None = None) -> list[Approval]:
    """The batch's approvals that are not void, of ``digest`` when given, oldest first."""
    sql = (
        "SELECT id, batch_id, digest, approver, fingerprint, statement, signature, acks_json,"
        " via, approved_at, void FROM approvals WHERE batch_id = ? AND void = 0"
    )
    args: tuple[str, ...] = (batch,)
    if digest is not None:
        sql, args = sql + " AND digest = ?", (batch, digest)
    return [Approval(*row) for row in ledger._db.execute(sql + " ORDER BY id", args)]


def audit_head(ledger: Ledger, batch: str) -> str:
    """The hash of the batch's last audit entry (GENESIS for none)."""
    row = ledger._db.execute(
        "SELECT hash FROM audit_entries WHERE batch_id = ? ORDER BY seq DESC LIMIT 1", (batch,)
    ).fetchone()
    return GENESIS if row is None else str(row[0])


def audit_entries(ledger: Ledger, batch: str) -> list[AuditEntry]:
    cursor = ledger._db.execute(
        "SELECT batch_id, seq, at, actor, action, payload_json, prev_hash, hash"
        " FROM audit_entries WHERE batch_id = ? ORDER BY seq",
        (batch,),
    )
    return [AuditEntry(*row) for row in cursor]
