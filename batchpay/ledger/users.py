"""The web app's accounts and settings in the ledger (revisions 0008, 0009): who may sign in,
with which role, each account's signing key (the public line, and the private key sealed
under the password: :mod:`batchpay.web.signing`), and the secret that signs session cookies.
Passwords arrive here already hashed (argon2id, :mod:`batchpay.web.accounts`) and keys
already sealed; this module never sees either in clear.

SQLAlchemy Core statements on :mod:`.tables`, one code path for SQLite and PostgreSQL. Two
writers racing for one name (an account, the secret) are settled by the primary key: the
insert does nothing when the row exists (``ON CONFLICT DO NOTHING``), and the loser is told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from batchpay.errors import UsageError
from batchpay.ledger.connection import Db, records
from batchpay.ledger.store import Ledger
from batchpay.ledger.tables import ROLES, batches, users, web_settings

__all__ = [
    "ROLES",
    "User",
    "add_user",
    "batch_ids",
    "get_user",
    "set_password_hash",
    "set_web_key",
]


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    password_hash: str
    created_at: str
    public_key: str | None = None  # "ssh-ed25519 AAAA... NAME (batchpay web)"
    sealed_key: str | None = None  # the private key, encrypted (never in clear)


def _insert_new(db: Db, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` unless a row with its primary key exists; True when inserted."""
    if db.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    key = next(iter(table.primary_key.columns))
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return db.execute(statement).fetchone() is not None  # (psycopg reports no rowcount)


def add_user(
    ledger: Ledger,
    name: str,
    role: str,
    password_hash: str,
    public_key: str | None = None,
    sealed_key: str | None = None,
) -> User:
    """Record a new account (with its signing key, when given); raises UsageError for an
    unknown role or a name already taken."""
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    name = name.strip()
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        raise UsageError("a user name is 1 to 100 printable characters")
    user = User(name, role, password_hash, ledger.now(), public_key, sealed_key)
    with ledger.transaction() as db:
        added = _insert_new(db, users, {f: getattr(user, f) for f in User.__slots__})
    if not added:
        raise UsageError(f"user {name!r} already exists in the ledger {ledger.path}")
    return user


def get_user(ledger: Ledger, name: str) -> User | None:
    """The account called ``name``, or None."""
    found = records(User, ledger._db.execute(sa.select(users).where(users.c.name == name)))
    return found[0] if found else None


def set_password_hash(ledger: Ledger, name: str, password_hash: str) -> None:
    """Store a re-hashed password (argon2 parameters raised since the account was made)."""
    with ledger.transaction() as db:
        db.execute(sa.update(users).where(users.c.name == name).values(password_hash=password_hash))


def set_web_key(ledger: Ledger, name: str, public_key: str, sealed_key: str) -> None:
    """Store an account's signing key (made at its first log-in when it had none)."""
    with ledger.transaction() as db:
        db.execute(
            sa.update(users)
            .where(users.c.name == name)
            .values(public_key=public_key, sealed_key=sealed_key)
        )


def web_secret(ledger: Ledger, make: Callable[[], str]) -> str:
    """The session-signing secret stored in the ledger, made with ``make`` on first use (two
    servers starting at once agree on one secret: the first insert wins, both read it)."""
    query = sa.select(web_settings.c.value).where(web_settings.c.name == "session_secret")
    found = ledger._db.scalar(query)
    if found is not None:
        return str(found)
    with ledger.transaction() as db:
        _insert_new(db, web_settings, {"name": "session_secret", "value": make()})
    return str(ledger._db.scalar(query))


def batch_ids(ledger: Ledger) -> list[str]:
    """Every batch in the ledger, the newest first."""
    rows = ledger._db.execute(
        sa.select(batches.c.batch_id).order_by(batches.c.created_at.desc())
    ).fetchall()
    return [str(r[0]) for r in rows]
