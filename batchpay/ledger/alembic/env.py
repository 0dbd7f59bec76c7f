"""Alembic's entry point for the ledger: batchpay runs it programmatically (see
:mod:`batchpay.ledger.migrate`) on the ledger's own connection, inside the transaction the
ledger opened; no alembic.ini is needed."""

from __future__ import annotations

from alembic import context

from batchpay.ledger.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
