"""The ledger as batchpay's first releases left it (SQLite ``PRAGMA user_version`` 5).

SQLite: the numbered scripts in ``batchpay/ledger/migrations`` run from the file's
``user_version`` up to 5 (all of them for a new file, none for a ledger written by those
releases), so an old ledger is upgraded in place. PostgreSQL (no ledger predates this
revision): the tables of :mod:`batchpay.ledger.tables` and the triggers that keep its rules.

Revision ID: 0005
Revises:
"""

from __future__ import annotations

import sqlite3
from importlib import resources

from alembic import op

from batchpay.ledger.tables import POSTGRESQL_TRIGGERS, metadata

revision = "0005"
down_revision = None
branch_labels = None
depends_on = None

LEGACY = 5  # the last numbered script; later changes are Alembic revisions


def legacy_scripts() -> list[tuple[int, str]]:
    """(number, SQL) of the numbered scripts up to :data:`LEGACY`, in order."""
    folder = resources.files("batchpay.ledger.migrations")
    found = []
    for entry in folder.iterdir():
        number = entry.name.split("_", 1)[0]
        if entry.name.endswith(".sql") and number.isdigit() and int(number) <= LEGACY:
            found.append((int(number), entry.read_text(encoding="utf-8")))
    return sorted(found)


def statements(script: str) -> list[str]:
    """``script`` split into whole statements (a trigger's body holds semicolons)."""
    out: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                out.append(pending.strip())
            pending = ""
    assert not pending.strip() or pending.strip().startswith("--"), pending
    return out


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        metadata.create_all(bind)
        for statement in POSTGRESQL_TRIGGERS:
            bind.exec_driver_sql(statement)
        return
    current = int(bind.exec_driver_sql("PRAGMA user_version").scalar_one())
    for number, script in legacy_scripts():
        if number > current:
            for statement in statements(script):
                bind.exec_driver_sql(statement)
            bind.exec_driver_sql(f"PRAGMA user_version = {number}")
