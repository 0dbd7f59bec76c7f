"""The one boundary between the database and batchpay: every database error becomes a LedgerError.

The ledger talks to SQLite or PostgreSQL through one SQLAlchemy Core engine. An error raised by
the driver (sqlite3 or psycopg), wherever it is raised (connecting, a statement, a commit, a
row fetched later), is translated by the engine's ``handle_error`` hook, so a full disk, a
read-only file, a corrupted page, a server that refuses the connection or a wrong password
gives the user a sentence that names the ledger (its URL without the password) and the fix,
and exit code 2, never a traceback.

Both backends run in the driver's autocommit mode, and the ledger opens its transactions
itself (:meth:`Db.begin`): ``BEGIN IMMEDIATE`` on SQLite, so a transaction that will write
holds SQLite's one write lock before it reads (as the pysqlite notes of SQLAlchemy advise,
the driver's own transaction handling is switched off), and ``BEGIN`` on PostgreSQL. Reads
outside a transaction hold no snapshot open between statements.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.pool import NullPool

from batchpay.errors import LedgerError
from batchpay.ledger.location import LedgerUrl, Location, scrub

T = TypeVar("T")
# An executed statement: a SQLAlchemy CursorResult (typed differently by SQLAlchemy 2.0 and
# 2.1, so named loosely here).
Rows = Any

# the driver's message -> what it means for the person at the keyboard
_CAUSES = (
    ("disk is full", "the disk holding the ledger {path} is full; free some space"),
    ("disk i/o error", "the disk holding the ledger {path} failed to read or write"),
    (
        "readonly database",
        "the ledger {path} is read-only; batchpay must write to it (check the permissions "
        "of the file and its folder, or pass another --ledger)",
    ),
    (
        "unable to open database file",
        "cannot open the ledger {path}; check that its folder exists and is writable",
    ),
    (
        "not a database",
        "{path} is not a usable batchpay ledger (corrupted, or another kind of file); "
        "restore it from a backup or pass another --ledger",
    ),
    (
        "malformed",
        "the ledger {path} is not a usable batchpay ledger (corrupted); restore it from a "
        "backup or pass another --ledger",
    ),
    (
        "database is locked",
        "the ledger {path} stayed locked by another process; try again when it has finished",
    ),
    (
        "password authentication failed",
        "the PostgreSQL server refused the password for the ledger {path}; set PGPASSWORD "
        "or add the password to ~/.pgpass",
    ),
    (
        "no password supplied",
        "the PostgreSQL server asks a password for the ledger {path}; set PGPASSWORD or "
        "add it to ~/.pgpass (never in the URL you type)",
    ),
    (
        "connection refused",
        "cannot reach the PostgreSQL server of the ledger {path}; check that it runs and "
        "the host and port in the URL",
    ),
    (
        "no such file or directory",
        "cannot reach the PostgreSQL server of the ledger {path}; check that it runs and "
        "the host and port in the URL",
    ),
    (
        "does not exist",
        "the ledger {path} names a database or role the server does not have; create it "
        "(createdb) or fix the URL",
    ),
    (
        "permission denied",
        "the database role of the ledger {path} may not do this; grant it the ledger's "
        "tables (see the README, Running batchpay for a team)",
    ),
)


def ledger_error(path: Location | str, exc: BaseException) -> LedgerError:
    """A clear LedgerError for a database (or file system) failure on the ledger at ``path``
    (shown without its password)."""
    if isinstance(exc, OSError):
        return LedgerError(f"cannot use the ledger {path}: {exc.strerror or exc}")
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(path, LedgerUrl):
        text = scrub(text.replace(path.url, str(path)), path.url)
    driver = "sqlite" if isinstance(exc, sqlite3.Error) else "database"
    for needle, message in _CAUSES:
        if needle in text.lower():
            return LedgerError(f"{message.format(path=path)} ({driver}: {text})")
    return LedgerError(f"the ledger {path} failed: {text}")


@functools.lru_cache(maxsize=512)
def _statement(sql: str) -> sa.TextClause:
    """``sql`` (named ``:parameters``) as a Core text clause, built once per statement; a
    parameter named ``in_...`` takes a list (``status IN :in_statuses``)."""
    clause = sa.text(sql)
    wanted = [name for name in clause._bindparams if name.startswith("in_")]
    if wanted:
        clause = clause.bindparams(*(sa.bindparam(name, expanding=True) for name in wanted))
    return clause


@functools.lru_cache(maxsize=256)
def _native(sql: str, dialect: str) -> str:
    """``sql`` with ``:name`` parameters in the driver's own style (sqlite3 reads ``:name``;
    psycopg reads ``%(name)s``)."""
    if dialect == "sqlite":
        return sql
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


def _is_psycopg(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith("psycopg")


def _named(sql: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    pieces = sql.split("?")
    if len(pieces) != len(values) + 1:
        raise TypeError(f"{len(values)} values for {len(pieces) - 1} parameters in {sql!r}")
    named = pieces[0] + "".join(f":p{i}{piece}" for i, piece in enumerate(pieces[1:]))
    return named, {f"p{i}": value for i, value in enumerate(values)}


class Db:
    """The ledger's one connection: statements with named parameters, and transactions the
    ledger opens itself. ``dialect`` is ``"sqlite"`` or ``"postgresql"``."""

    def __init__(self, engine: Engine, where: Location) -> None:
        self.engine = engine
        self.where = where
        self.dialect = engine.dialect.name
        try:
            self.connection: Connection = engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise ledger_error(where, exc) from None
        self.in_transaction = False

    def execute(
        self,
        sql: str | sa.Executable,
        params: Mapping[str, Any] | Sequence[Any] | None = None,
    ) -> Rows:
        """Run ``sql`` with named ``:parameters`` (or, for tests and tools, ``?`` ones and a
        sequence of values), or a Core statement built on :mod:`.tables`."""
        if not isinstance(sql, str):
            return self.connection.execute(sql, dict(params or {}))
        if params is not None and not isinstance(params, Mapping):
            sql, params = _named(sql, params)
        return self.connection.execute(_statement(sql), dict(params or {}))

    def run(self, sql: str, params: Mapping[str, Any]) -> Any:
        """Run ``sql`` (named ``:parameters``, no ``in_`` lists) on the driver's own cursor and
        return it: the write-ahead pair's path, where SQLAlchemy's per-statement work would
        cost as much as SQLite itself. Driver errors become LedgerErrors here too."""
        raw = self.connection.connection.driver_connection
        assert raw is not None
        try:
            cursor = raw.cursor()
            cursor.execute(_native(sql, self.dialect), params)
        except Exception as exc:
            if isinstance(exc, sa.exc.SQLAlchemyError | sqlite3.Error) or _is_psycopg(exc):
                raise ledger_error(self.where, exc) from None
            raise
        return cursor

    def executemany(self, sql: str, params: list[dict[str, Any]]) -> None:
        if params:
            self.connection.execute(_statement(sql), params)

    def scalar(self, sql: str | sa.Executable, params: Mapping[str, Any] | None = None) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def lock_batch(self, batch_id: str) -> None:
        """Inside a transaction, on PostgreSQL: lock the batch's row in ``batches`` before
        anything else. Every writer of a batch's rows (claims, leases, the write-ahead pair,
        callbacks) takes this lock first, so their locks are taken in one order (the batch,
        then its payouts) and two writers never deadlock. SQLite has one write lock: a no-op."""
        if self.dialect == "postgresql":
            self.execute(
                "SELECT batch_id FROM batches WHERE batch_id = :b FOR UPDATE", {"b": batch_id}
            )

    def begin(self) -> None:
        self.connection.exec_driver_sql("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
        self.in_transaction = True

    def commit(self) -> None:
        self.connection.exec_driver_sql("COMMIT")
        self.in_transaction = False

    def rollback(self) -> None:
        """Undo the open transaction, if any. A failed rollback (the disk or the server went
        away) is not a second error to report: the database undoes an uncommitted
        transaction by itself."""
        if not self.in_transaction:
            return
        self.in_transaction = False
        with contextlib.suppress(LedgerError, sa.exc.SQLAlchemyError, sqlite3.Error):
            self.connection.exec_driver_sql("ROLLBACK")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Db]:
        """All or nothing, whatever interrupts it (an error, Ctrl-C, SIGTERM)."""
        try:
            self.begin()
            yield self
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def close(self) -> None:
        try:
            self.connection.close()
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            raise ledger_error(self.where, exc) from None
        finally:
            self.engine.dispose()

    def sqlite_connection(self) -> sqlite3.Connection:
        """The driver's own connection (SQLite only: tests install faults through it)."""
        raw = self.connection.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        return raw


def records(
    kind: type[T],
    result: Rows,
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
) -> list[T]:
    """The rows of an executed ``result`` as dataclasses ``kind``, mapped by column name: the
    columns must name ``kind``'s fields (checked once per query), and the value of a column
    named in ``convert`` is passed through its function. No dictionary is built per row, so a
    100k-row read costs what reading by position did."""
    names = list(result.keys())
    fields = [f.name for f in dataclasses.fields(kind)]  # type: ignore[arg-type]
    if names != fields[: len(names)]:
        raise TypeError(f"columns {names} do not name the fields of {kind.__name__}")
    steps = [(i, convert[name]) for i, name in enumerate(names) if convert and name in convert]
    rows = _stream(result)  # never the whole result as Row objects beside the dataclasses
    if not steps:
        return [kind(*row) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for i, function in steps:
            values[i] = function(values[i])
        out.append(kind(*values))
    return out


def _stream(result: Rows, size: int = 1000) -> Iterator[Sequence[Any]]:
    """The rows of ``result`` a thousand at a time, so a 100k-row read holds its dataclasses
    and one chunk of rows, not a Row object per row as well. Fetched through SQLAlchemy, so
    an error while reading (a corrupted page met mid-read) is a LedgerError as any other."""
    while chunk := result.fetchmany(size):
        yield from chunk


def open_engine(where: Location) -> Engine:
    """An engine for the ledger at ``where`` (nothing is connected yet): SQLite with WAL,
    synchronous writes, foreign keys and a 30 s busy timeout; PostgreSQL through psycopg 3.
    Every driver error it raises later is a LedgerError."""
    try:
        if isinstance(where, LedgerUrl):
            engine = sa.create_engine(
                where.driver_url(), poolclass=NullPool, isolation_level="AUTOCOMMIT"
            )
        else:
            engine = _sqlite_engine(where)
    except (sa.exc.SQLAlchemyError, ValueError) as exc:  # a malformed URL
        raise LedgerError(f"cannot use the ledger {where}: {exc}") from None

    @event.listens_for(engine, "handle_error")
    def translate(context: ExceptionContext) -> None:
        raise ledger_error(where, context.original_exception) from None

    return engine


def _sqlite_engine(path: Path) -> Engine:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ledger_error(path, exc) from None
    engine = sa.create_engine(
        "sqlite://",
        poolclass=NullPool,
        # through the sqlite3 module's own connect (tests put faults there); the driver's
        # transaction handling off: batchpay opens its transactions itself
        creator=lambda: sqlite3.connect(
            path, timeout=30, isolation_level=None, check_same_thread=False
        ),
    )

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=FULL")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine
