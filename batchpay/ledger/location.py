"""Where the ledger lives: a SQLite file (a path, the default) or a PostgreSQL database (a URL).

``--ledger``, ``ledger =`` in batchpay.toml and ``BATCHPAY_LEDGER`` all go through
:func:`parse_location`. A URL's password is never printed: :class:`LedgerUrl` shows itself
with the password masked (``str``, ``repr``, every message), and the password is best left out
of the URL altogether: libpq reads it from ``PGPASSWORD`` or ``~/.pgpass``.

This module does not import SQLAlchemy (reading the settings stays cheap); the URL is parsed
by SQLAlchemy only when a ledger is opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from batchpay.errors import ConfigError

# postgresql://, postgresql+psycopg://, postgres:// (libpq's short form)
_SCHEME = re.compile(r"^(postgres|postgresql)(\+psycopg)?://", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"((?:^|[?&])(?:ssl)?password=)[^&]*", re.IGNORECASE)
# a URL of any kind, or one mistyped (``postgresql:/h/db``, ``postgres:bob@h/db``): never a
# file name (a Windows drive letter, ``C:\\``, has one letter)
_ANY_SCHEME = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|[a-z][a-z0-9+.-]+:/|postgres(?:ql)?[+\w]*:)", re.I
)
_HEAD = re.compile(r"^[a-z][a-z0-9+.-]+:/*", re.IGNORECASE)  # a scheme, as mask reads it


@dataclass(frozen=True)
class LedgerUrl:
    """A PostgreSQL ledger. ``str()`` and ``repr()`` mask the password."""

    url: str = field(repr=False)  # as given, password and all: only the driver sees it

    def driver_url(self) -> str:
        """The SQLAlchemy URL for the psycopg 3 driver (``postgresql+psycopg://...``)."""
        return _SCHEME.sub("postgresql+psycopg://", self.url, count=1)

    @property
    def database(self) -> str:
        after_host = self.url.partition("://")[2].rpartition("@")[2]  # as :func:`mask` reads it
        return unquote(after_host.partition("/")[2].partition("?")[0]) or "postgres"

    @property
    def parent(self) -> Path:
        """The folder for what batchpay keeps beside a ledger file (the sandbox's own book):
        for a database, the working directory."""
        return Path(".")

    @property
    def stem(self) -> str:
        return f"batchpay-{self.database}"

    def exists(self) -> bool:
        """A database server decides whether the ledger exists: batchpay asks it on opening."""
        return True

    def __str__(self) -> str:
        return mask(self.url)

    def __repr__(self) -> str:
        return f"LedgerUrl({mask(self.url)!r})"


Location = Path | LedgerUrl


def parse_location(value: str | Path | LedgerUrl) -> Location:
    """A ledger path or URL from a flag, the config file or the environment.

    Raises ConfigError for a URL of another kind (``mysql://``, ``sqlite://``): a path is a
    file name, a URL names a PostgreSQL database."""
    if isinstance(value, LedgerUrl | Path):
        return value
    text = value.strip()
    if _SCHEME.match(text):
        return LedgerUrl(text)
    if _ANY_SCHEME.match(text):
        raise ConfigError(
            f"the ledger {mask(text)} is neither a file path nor a postgresql:// URL; "
            "write a path (SQLite) or postgresql://user@host:port/dbname"
        )
    return Path(text)


def mask(url: str) -> str:
    """``url`` with any password replaced by ``***`` (the user name and host are kept).

    Read as SQLAlchemy reads a URL, where a typed password may hold ``/``, ``?``, ``#`` or
    ``@`` unescaped: the password runs from the first ``:`` after the user name to the last
    ``@``; a ``password=`` or ``sslpassword=`` parameter to the next ``&``. When in doubt
    more is masked, never less."""
    head = _HEAD.match(url)
    if head is None:
        return _QUERY_PASSWORD.sub(r"\1***", url)
    scheme, sep, rest = url[: head.end()], "", url[head.end() :]
    user_info, at, host = rest.rpartition("@")
    if at and ":" in user_info.split("/", 1)[0].split("?", 1)[0]:
        rest = f"{user_info.partition(':')[0]}:***@{host}"
    return scheme + sep + _QUERY_PASSWORD.sub(r"\1***", rest)


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's message about ``url``) with every piece of the password typed in
    ``url`` replaced by ``***``. The driver may read a password with an unescaped ``@`` as
    part of the host and quote that "host" back; mask() would hide it in the URL, this hides
    it in the message too (the whole password, and what follows its first ``@``)."""
    head = _HEAD.match(url)
    rest = url[head.end() :] if head else url
    user_info, at, _ = rest.rpartition("@")
    secrets = [m.group(0).partition("=")[2] for m in _QUERY_PASSWORD.finditer(rest)]
    if at and ":" in user_info.split("/", 1)[0].split("?", 1)[0]:
        password = user_info.partition(":")[2]
        secrets += [password, password.partition("@")[2]]  # the driver's "host" starts there
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def shown(location: Location) -> str:
    """How the ledger is named to a person: the path, or the URL without its password."""
    return str(location)
