"""Four eyes: a batch's submitted plan, the approvals signed over its digest, and its
hash-chained audit log (:mod:`batchpay.ledger.fouryes`).

Text and integer columns only, the same on both backends: signatures are base64 text, hashes
hex text, times UTC ISO-8601 text. ``audit_entries`` has the primary key (batch_id, seq), so
two writers can never append two entries with one sequence number.

The baseline builds a new PostgreSQL ledger from the current metadata, which already holds
these tables, and a SQLite ledger written before the port to Alembic may hold them too (its
``PRAGMA user_version`` 6 or 7); so this revision creates only what is missing.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TEXT = (
    "fingerprint",
    "statement",
    "signature",
)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("submissions"):
        op.create_table(
            "submissions",
            sa.Column("batch_id", sa.Text, primary_key=True),
            sa.Column("digest", sa.Text, nullable=False),
            sa.Column("provider", sa.Text, nullable=False),
            sa.Column("fee_option", sa.Text, nullable=False),
            sa.Column("canonical", sa.Text, nullable=False),
            sa.Column("plan_json", sa.Text, nullable=False),
            sa.Column("preparer", sa.Text, nullable=False),
            *(sa.Column(name, sa.Text, nullable=False) for name in _TEXT),
            sa.Column("submitted_at", sa.Text, nullable=False),
        )
    if not inspector.has_table("approvals"):
        op.create_table(
            "approvals",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
            sa.Column("batch_id", sa.Text, nullable=False),
            sa.Column("digest", sa.Text, nullable=False),
            sa.Column("approver", sa.Text, nullable=False),
            *(sa.Column(name, sa.Text, nullable=False) for name in _TEXT),
            sa.Column("acks_json", sa.Text, nullable=False),
            sa.Column("via", sa.Text, nullable=False),
            sa.Column("approved_at", sa.Text, nullable=False),
            sa.Column("void", sa.Integer, nullable=False, server_default="0"),
        )
        op.create_index("approvals_batch", "approvals", ["batch_id", "digest"])
    if not inspector.has_table("audit_entries"):
        op.create_table(
            "audit_entries",
            sa.Column("batch_id", sa.Text, primary_key=True),
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("at", sa.Text, nullable=False),
            sa.Column("actor", sa.Text, nullable=False),
            sa.Column("action", sa.Text, nullable=False),
            sa.Column("payload_json", sa.Text, nullable=False),
            sa.Column("prev_hash", sa.Text, nullable=False),
            sa.Column("hash", sa.Text, nullable=False),
        )
