"""The web app: its accounts (name, role, argon2id password hash) and its settings (the secret
that signs session cookies), :mod:`batchpay.ledger.users`.

As in revision 0007, only what is missing is created (the baseline builds a PostgreSQL ledger
from the current metadata; a SQLite ledger at ``PRAGMA user_version`` 7 has them already).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("users"):
        op.create_table(
            "users",
            sa.Column("name", sa.Text, primary_key=True),
            sa.Column("role", sa.Text, nullable=False),
            sa.Column("password_hash", sa.Text, nullable=False),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.CheckConstraint(
                "role IN ('preparer', 'approver', 'viewer', 'admin')", name="users_role"
            ),
        )
    if not inspector.has_table("web_settings"):
        op.create_table(
            "web_settings",
            sa.Column("name", sa.Text, primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
