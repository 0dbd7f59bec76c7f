"""The web app's accounts and settings in the ledger (migrations 007, 008): who may sign in,
with which role, each account's signing key (the public line, and the private key sealed
under the password: :mod:`batchpay.web.signing`), and the secret that signs session cookies.
Passwords arrive here already hashed (argon2id, :mod:`batchpay.web.accounts`) and keys
already sealed; this module never sees either in clear."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from batchpay.errors import UsageError
from batchpay.ledger.store import Ledger

ROLES = ("preparer", "approver", "viewer", "admin")


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    password_hash: str
    created_at: str
    public_key: str | None = None  # "ssh-ed25519 AAAA... NAME (batchpay web)"
    sealed_key: str | None = None  # the private key, encrypted (never in clear)


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
        if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise UsageError(f"user {name!r} already exists in the ledger {ledger.path}")
        db.execute(
            "INSERT INTO users (name, role, password_hash, created_at, public_key, sealed_key)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user.name, user.role, user.password_hash, user.created_at, public_key, sealed_key),
        )
    return user


def get_user(ledger: Ledger, name: str) -> User | None:
    """The account called ``name``, or None."""
    with ledger.transaction() as db:
        row = db.execute(
            "SELECT name, role, password_hash, created_at, public_key, sealed_key FROM users"
            " WHERE name = ?",
            (name,),
        ).fetchone()
    return None if row is None else User(*row)


def set_password_hash(ledger: Ledger, name: str, password_hash: str) -> None:
    """Store a re-hashed password (argon2 parameters raised since the account was made)."""
    with ledger.transaction() as db:
        db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))


def set_web_key(ledger: Ledger, name: str, public_key: str, sealed_key: str) -> None:
    """Store an account's signing key (made at its first log-in when it had none)."""
    with ledger.transaction() as db:
        db.execute(
            "UPDATE users SET public_key = ?, sealed_key = ? WHERE name = ?",
            (public_key, sealed_key, name),
        )


def web_secret(ledger: Ledger, make: Callable[[], str]) -> str:
    """The session-signing secret stored in the ledger, made with ``make`` on first use
    (in one transaction, so two servers starting at once agree on one secret)."""
    with ledger.transaction() as db:
        row = db.execute("SELECT value FROM web_settings WHERE name = 'session_secret'").fetchone()
        if row is not None:
            return str(row[0])
        secret = make()
        db.execute("INSERT INTO web_settings (name, value) VALUES ('session_secret', ?)", (secret,))
    return secret


def batch_ids(ledger: Ledger) -> list[str]:
    """Every batch in the ledger, the newest first."""
    with ledger.transaction() as db:
        rows = db.execute("SELECT batch_id FROM batches ORDER BY created_at DESC").fetchall()
    return [str(r[0]) for r in rows]
