"""The one boundary between SQLite and batchpay: every sqlite error becomes a LedgerError.

The ledger's connection and its cursors translate ``sqlite3.Error`` wherever it is raised (opening,
a statement, a commit, a row fetched later), so a full disk, a read-only file or a corrupted page
gives the user a sentence that names the file and the fix, and exit code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from batchpay.errors import LedgerError

T = TypeVar("T")

# sqlite's message -> what it means for the person at the keyboard
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
)


def ledger_error(path: Path | str, exc: sqlite3.Error | OSError) -> LedgerError:
    """A clear LedgerError for a sqlite (or file system) failure on the ledger at ``path``."""
    if isinstance(exc, OSError):
        return LedgerError(f"cannot use the ledger {path}: {exc.strerror or exc}")
    text = str(exc)
    for needle, message in _CAUSES:
        if needle in text.lower():
            return LedgerError(f"{message.format(path=path)} (sqlite: {text})")
    return LedgerError(f"the ledger {path} failed: {text}")


class LedgerCursor(sqlite3.Cursor):
    """A cursor whose every call translates sqlite errors (rows are fetched lazily, so a
    corrupted page can surface while iterating, long after ``execute`` returned)."""

    connection: LedgerConnection

    def _error(self, exc: sqlite3.Error) -> LedgerError:
        return ledger_error(self.connection.ledger_path, exc)

    def execute(self, sql: str, parameters: Any = (), /) -> LedgerCursor:
        try:
            super().execute(sql, parameters)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> LedgerCursor:
        try:
            super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        return self

    def executescript(self, sql_script: str, /) -> LedgerCursor:
        try:
            super().executescript(sql_script)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        return self

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            raise self._error(exc) from None


class LedgerConnection(sqlite3.Connection):
    """``sqlite3.connect(..., factory=LedgerConnection)``: statements run on LedgerCursors."""

    ledger_path: Path = Path("?")

    def execute(self, sql: str, parameters: Any = (), /) -> LedgerCursor:
        return self.cursor(LedgerCursor).execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> LedgerCursor:
        return self.cursor(LedgerCursor).executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> LedgerCursor:
        return self.cursor(LedgerCursor).executescript(sql_script)

    def close(self) -> None:
        try:
            super().close()
        except sqlite3.Error as exc:
            raise ledger_error(self.ledger_path, exc) from None


def records(
    kind: type[T],
    cursor: sqlite3.Cursor,
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
) -> list[T]:
    """The rows of an executed ``cursor`` as dataclasses ``kind``, mapped by column name: the
    columns must name ``kind``'s fields (checked once per query), and the value of a column
    named in ``convert`` is passed through its function. No dictionary is built per row, so a
    100k-row read costs what reading by position did."""
    names = [d[0] for d in cursor.description]
    fields = [f.name for f in dataclasses.fields(kind)]  # type: ignore[arg-type]
    if names != fields[: len(names)]:
        raise TypeError(f"columns {names} do not name the fields of {kind.__name__}")
    steps = [(i, convert[name]) for i, name in enumerate(names) if convert and name in convert]
    if not steps:
        return [kind(*row) for row in cursor]
    out = []
    for row in cursor:
        values = list(row)
        for i, function in steps:
            values[i] = function(values[i])
        out.append(kind(*values))
    return out


def connect(path: Path) -> LedgerConnection:
    """Open (creating if needed) the SQLite file at ``path`` in autocommit mode, WAL, synchronous
    writes and foreign keys on; any failure is a LedgerError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=30, factory=LedgerConnection)
    except OSError as exc:
        raise ledger_error(path, exc) from None
    except sqlite3.Error as exc:
        raise ledger_error(path, exc) from None
    db.ledger_path = path
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
    except LedgerError:
        db.close()
        raise
    return db


def rollback(db: sqlite3.Connection) -> None:
    """Undo the open transaction, if any. A failed rollback (the disk went away) is not a
    second error to report: sqlite undoes an uncommitted transaction when the file is next
    opened."""
    if not db.in_transaction:
        return
    with contextlib.suppress(LedgerError, sqlite3.Error):
        db.execute("ROLLBACK")
