"""Shared by the CLI tests: invoke a command in process and check how it ended."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from batchpay.cli import main
from batchpay.ledger import store


def cli(*args: object) -> Result:
    """Run one command as a user would, catching what escapes (nothing should)."""
    return CliRunner().invoke(main, [str(a) for a in args])


def ended(result: Result, code: int) -> Result:
    """The command ended with ``code``, through the CLI's own exit, with no traceback."""
    detail = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nexception: {result.exception!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), detail
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr, detail
    assert result.exit_code == code, detail
    return result


def as_json(result: Result) -> dict[str, Any]:
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


class DiskFull:
    """Make every write to a ledger fail inside SQLite with "database or disk is full", from
    the moment it is armed (from any thread), on connections already open and opened later.

    Temporary triggers raise the error from within the statement, so it travels the same road
    as a real full disk: out of sqlite3, through the ledger's one translation boundary."""

    TABLES = ("batches", "payouts", "attempts", "report_stamps")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed = False
        migrate = store.Ledger._migrate

        def migrated(ledger: store.Ledger) -> None:
            migrate(ledger)
            self.install(ledger._db.sqlite_connection())

        monkeypatch.setattr(store.Ledger, "_migrate", migrated)

    def install(self, db: sqlite3.Connection) -> None:
        db.create_function("disk_full", 0, lambda: int(self.armed))
        for table in self.TABLES:
            for event in ("INSERT", "UPDATE"):
                db.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS full_{event}_{table} BEFORE {event}"
                    f" ON main.{table} WHEN disk_full()"
                    " BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
                )

    def arm(self) -> None:
        self.armed = True


def read_only_ledger(monkeypatch: pytest.MonkeyPatch, ledger: Path) -> None:
    """Make ``ledger`` read-only for this process: by its mode, and, when running as root
    (file modes do not stop root), by opening it through SQLite's read-only mode."""
    ledger.chmod(0o444)
    if os.geteuid() != 0:
        return
    real = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if Path(database).resolve() == ledger.resolve():
            kwargs["uri"] = True
            database = f"file:{ledger.resolve()}?mode=ro"
        connection: sqlite3.Connection = real(database, *args, **kwargs)
        return connection

    monkeypatch.setattr("batchpay.ledger.connection.sqlite3.connect", connect)
