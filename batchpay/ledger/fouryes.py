"""Four eyes in the ledger (revision 0007): a batch's submitted plan, the approvals signed over
its digest, and the batch's hash-chained audit log.

Plain records and writes, each in the ledger's own transaction, as SQLAlchemy Core statements
on :mod:`.tables` (one code path for SQLite and PostgreSQL). What a signature means and who
may sign is :mod:`batchpay.approvals`; this module only stores and reads.

The audit chain: entry ``seq`` of a batch stores ``hash = SHA-256(prev_hash + canonical)``,
where ``canonical`` is the UTF-8 JSON (sorted keys, no whitespace) of its batch, seq, time,
actor, action and payload, and ``prev_hash`` is the hash of entry ``seq - 1`` (64 zeros for the
first). Changing, removing or reordering an entry breaks every hash after it.

Several writers (processes, hosts) append to one chain without forking it: the writes of a
batch's four-eyes records run one at a time (SQLite: the transaction holds the one write lock
from its start; PostgreSQL: a transaction-scoped advisory lock per batch, taken before the
chain's head is read), and ``(batch_id, seq)`` is the table's primary key besides.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from batchpay.ledger.connection import Db, records
from batchpay.ledger.store import Ledger
from batchpay.ledger.tables import approvals as approvals_table
from batchpay.ledger.tables import audit_entries as audit_table
from batchpay.ledger.tables import submissions as submissions_table
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


def hold_batch(db: Db, batch: str) -> None:
    """Inside a write transaction on ``db``: wait until no other transaction writes ``batch``'s
    four-eyes records, and keep them to this one until it ends (PostgreSQL: an advisory lock
    on the batch's name; SQLite's ``BEGIN IMMEDIATE`` has taken the one write lock already)."""
    if db.dialect == "postgresql":
        db.execute(
            "SELECT pg_advisory_xact_lock(hashtext('batchpay four eyes'), hashtext(:b))",
            {"b": batch},
        )


def save_submission(ledger: Ledger, s: Submission) -> int:
    """Record ``s`` as the batch's submission, replacing an earlier one; approvals of any
    other digest become void. Returns how many approvals were voided."""
    a = approvals_table.c
    with ledger.transaction() as db:
        hold_batch(db, s.batch_id)
        voided = db.execute(
            sa.update(approvals_table)
            .where(a.batch_id == s.batch_id, a.digest != s.digest, a.void == 0)
            .values(void=1)
        ).rowcount
        db.execute(sa.delete(submissions_table).where(submissions_table.c.batch_id == s.batch_id))
        db.execute(sa.insert(submissions_table).values(**dataclasses.asdict(s)))
    return int(voided)


def save_approval(ledger: Ledger, a: Approval) -> None:
    values = {k: v for k, v in dataclasses.asdict(a).items() if k not in ("id", "void")}
    with ledger.transaction() as db:
        hold_batch(db, a.batch_id)
        db.execute(sa.insert(approvals_table).values(**values, void=0))


def append_audit(
    ledger: Ledger, batch: str, actor: str, action: str, payload: dict[str, Any]
) -> AuditEntry:
    """Append one entry to the batch's chain, in one transaction that holds the batch
    (:func:`hold_batch`), so two writers never fork it."""
    payload_json = canonical_json(payload)
    at = ledger.now()
    t = audit_table.c
    with ledger.transaction() as db:
        hold_batch(db, batch)
        last = db.execute(
            sa.select(t.seq, t.hash).where(t.batch_id == batch).order_by(t.seq.desc()).limit(1)
        ).fetchone()
        seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
        entry = AuditEntry(
            batch,
            seq,
            at,
            actor,
            action,
            payload_json,
            prev,
            entry_hash(prev, batch, seq, at, actor, action, payload_json),
        )
        db.execute(sa.insert(audit_table).values(**dataclasses.asdict(entry)))
    return entry


# -- reads (outside any transaction: each is one statement) -------------------------------


def submission(ledger: Ledger, batch: str) -> Submission | None:
    result = ledger._db.execute(  # the ledger package's own connection
        sa.select(submissions_table).where(submissions_table.c.batch_id == batch)
    )
    found = records(Submission, result)
    return found[0] if found else None


def approvals(ledger: Ledger, batch: str, digest: str | None = None) -> list[Approval]:
    """The batch's approvals that are not void, of ``digest`` when given, oldest first."""
    a = approvals_table.c
    query = sa.select(approvals_table).where(a.batch_id == batch, a.void == 0)
    if digest is not None:
        query = query.where(a.digest == digest)
    return records(Approval, ledger._db.execute(query.order_by(a.id)))


def audit_head(ledger: Ledger, batch: str) -> str:
    """The hash of the batch's last audit entry (GENESIS for none)."""
    t = audit_table.c
    query = sa.select(t.hash).where(t.batch_id == batch).order_by(t.seq.desc()).limit(1)
    found = ledger._db.scalar(query)
    return GENESIS if found is None else str(found)


def audit_entries(ledger: Ledger, batch: str) -> list[AuditEntry]:
    t = audit_table.c
    query = sa.select(audit_table).where(t.batch_id == batch).order_by(t.seq)
    return records(AuditEntry, ledger._db.execute(query))
