"""Several workers on one batch: a lease per claimed row, and the shared rate limit.

``payouts.lease_owner`` / ``payouts.lease_until`` (UTC ISO-8601 text): which worker holds the
row, and until when (:mod:`batchpay.ledger.claims`). ``rate_slots``: per provider, the next
free request slot in microseconds since the epoch, shared by every worker
(:class:`batchpay.send.ratelimit.SharedRateLimiter`). A SQLite ledger gets them too (one
schema everywhere), though one process at a time works a SQLite batch.

The baseline builds a new PostgreSQL ledger from the current metadata, which already holds
them; so this revision adds only what is missing.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("payouts")}
    for name in ("lease_owner", "lease_until"):
        if name not in columns:
            op.add_column("payouts", sa.Column(name, sa.Text))
    if not inspector.has_table("rate_slots"):
        op.create_table(
            "rate_slots",
            sa.Column("provider", sa.Text, primary_key=True),
            sa.Column("next_us", sa.BigInteger, nullable=False),
        )
