"""Bring a ledger's schema to this batchpay's, with Alembic, run from the code (no alembic.ini).

Opening a ledger that is current costs one query. Otherwise the upgrade runs in one
transaction that holds the ledger's write lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an
advisory lock), so two processes opening a new ledger at once build it once. A ledger written
by a newer batchpay (a revision this one does not know) is refused, never downgraded.

The chain: ``0005`` (the schema of the first releases; see its docstring for how a SQLite
ledger written by them is taken over in place), then one revision per later change, in
``batchpay/ledger/alembic/versions``.

Adding a change: a file ``alembic/versions/r0010_name.py`` with ``revision = "0010"``,
``down_revision = "0009"`` and an ``upgrade()`` that works on both backends (``op.create_table``
with the columns also added to :mod:`.tables`, skipped when the table exists, since the
baseline builds a PostgreSQL ledger from the current metadata; a trigger needs a SQLite and a
PostgreSQL form, as in ``r0005_baseline``), then "0010" appended to :data:`KNOWN` and set as
:data:`HEAD`, as ``r0007_four_eyes`` to ``r0009_web_keys`` did. The numbered ``.sql`` scripts end
at 005: a later ``.sql`` file there is not run by itself.

A SQLite ledger written between the four-eyes and web changes and their port to Alembic (never
released) carries ``PRAGMA user_version`` 6, 7 or 8 and those tables already; it is taken over as
well (:data:`PRE_ALEMBIC`).
"""

from __future__ import annotations

from pathlib import Path

from batchpay.errors import LedgerError
from batchpay.ledger.connection import Db

HEAD = "0009"  # the newest revision in alembic/versions (tests/ledger/test_migrations.py)
KNOWN = ("0005", "0006", "0007", "0008", "0009")  # every revision, oldest first
LEGACY = 5  # SQLite ledgers of the first releases: PRAGMA user_version 1..5
PRE_ALEMBIC = 8  # ... and 6-8: four eyes, users, web keys, before revisions 0007-9
_LOCK = 0x6261746368706179  # "batchpay": the advisory lock key of a PostgreSQL upgrade
SCRIPTS = Path(__file__).resolve().parent / "alembic"


def current(db: Db) -> str | None:
    """The ledger's Alembic revision; None when it has none (new, or written before)."""
    if db.dialect == "sqlite":
        found = db.scalar(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        )
    else:
        # a query of the catalog, not to_regclass(): that reads the session's cached catalog,
        # which may not yet show a table another process created while this one waited
        found = db.scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables"
            " WHERE schemaname = current_schema() AND tablename = 'alembic_version')"
        )
    if not found:
        return None
    version = db.scalar("SELECT version_num FROM alembic_version")
    return None if version is None else str(version)


def upgrade(db: Db) -> None:
    """Upgrade the ledger on ``db`` to :data:`HEAD`; raises LedgerError when a newer batchpay
    wrote it (or any database error)."""
    found = current(db)
    _refuse_newer(db, found)
    if found == HEAD:
        return
    with db.transaction():
        if db.dialect == "postgresql":
            db.execute("SELECT pg_advisory_xact_lock(:key)", {"key": _LOCK})
        found = current(db)  # again, under the lock: another process may have done it
        if found == HEAD:
            return
        _refuse_newer(db, found)
        _run_alembic(db)


def _refuse_newer(db: Db, found: str | None) -> None:
    if found is not None and found not in KNOWN:
        raise LedgerError(
            f"{db.where} was written by a newer batchpay (schema {found}); upgrade batchpay"
        )
    if db.dialect == "sqlite":  # a first release's ledger, or a newer one they refuse
        version = int(db.scalar("PRAGMA user_version"))
        if version > PRE_ALEMBIC:
            raise LedgerError(
                f"{db.where} was written by a newer batchpay (schema {version}); upgrade batchpay"
            )


def _run_alembic(db: Db) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = db.connection
    command.upgrade(config, HEAD)
