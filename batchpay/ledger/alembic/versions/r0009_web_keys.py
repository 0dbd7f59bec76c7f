"""A signing key per web account (four eyes in the browser): the public half as an OpenSSH
line, and the private half sealed under a key derived from the account's password (argon2id,
then AES-256-GCM; :mod:`batchpay.web.signing`), never in clear. Two nullable columns: a
viewer, or an account made before this revision, has none until its next log-in.

As in revisions 0007 and 0008, only what is missing is added (the baseline builds a
PostgreSQL ledger from the current metadata; a SQLite ledger at ``PRAGMA user_version`` 8 has
them already).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("users")}
    for name in ("public_key", "sealed_key"):
        if name not in present:
            op.add_column("users", sa.Column(name, sa.Text, nullable=True))
