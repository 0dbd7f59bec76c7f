"""The ledger's schema under Alembic: a ledger written by the release before it (main at
f0f87a0, PRAGMA user_version 5, committed as a fixture) is upgraded in place and keeps every
row; SQLite and PostgreSQL hold the same tables; a newer ledger is refused."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from batchpay import api
from batchpay.config import Settings
from batchpay.errors import LedgerError
from batchpay.ledger import Ledger, migrate
from batchpay.ledger.tables import metadata
from batchpay.model import RowStatus

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLD = "ledger-f0f87a0"  # run by f0f87a0: the sandbox sample (10 rows), then 3 rows, 2 failed


def _old_ledger(tmp_path: Path) -> Path:
    for suffix in (".sqlite", ".sandbox.sqlite"):
        shutil.copy(FIXTURES / f"{OLD}{suffix}", tmp_path / f"{OLD}{suffix}")
    return tmp_path / f"{OLD}.sqlite"


def _dump(path: Path, table: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        db.close()


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {status: n for status, n in counts.items() if n}


def test_a_ledger_of_the_last_release_is_upgraded_in_place_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    path = _old_ledger(tmp_path)
    assert _dump(path, "pragma_user_version") == [(5,)]
    before = {t: _dump(path, t) for t in ("batches", "payouts", "attempts")}
    with Ledger(path) as ledger:
        assert migrate.current(ledger._db) == migrate.HEAD
        assert [r.status for r in ledger.rows("payroll-2026-11")] == [RowStatus.COMPLETED] * 10
    after = {t: _dump(path, t) for t in before}
    # every row, every column, as it was (later revisions may add columns after them)
    assert {t: [row[: len(before[t][0])] for row in rows] for t, rows in after.items()} == before
    assert _dump(path, "pragma_user_version") == [(5,)]
    Ledger(path).close()  # a second opening finds it current


def test_status_report_and_retry_work_on_the_upgraded_ledger(
    tmp_path: Path, settings: Settings
) -> None:
    path = _old_ledger(tmp_path)
    here = replace(settings, ledger=path, report_dir=tmp_path / "reports")
    before = _dump(path, "payouts")
    status = api.status("payroll-2026-11", settings=here)
    assert status.summary is not None and _nonzero(status.summary.counts) == {"completed": 10}
    width = len(before[0])  # the columns of the old release; later revisions add some
    assert [row[:width] for row in _dump(path, "payouts")] == before  # all final: unchanged
    files = api.report("payroll-2026-11", settings=here)
    csv = (tmp_path / "reports" / "reconciliation.csv").read_text(encoding="utf-8-sig")
    assert len(csv.strip().splitlines()) == 11 and files
    retried = api.retry("retry-me", settings=here)
    assert retried.summary is not None  # the sandbox fails .02/.04 again
    assert _nonzero(retried.summary.counts) == {"completed": 1, "failed": 2}
    with Ledger(path) as ledger:
        rows = ledger.rows("retry-me")
        assert [r.attempt_no for r in rows] == [1, 2, 2]  # the failed rows: a new attempt each
        assert [str(r.amount) for r in rows] == ["10.00", "10.02", "10.04"]


def test_the_head_named_in_the_code_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(migrate.SCRIPTS))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_current_head() == migrate.HEAD
    chain = [s.revision for s in scripts.walk_revisions()]
    assert list(reversed(chain)) == list(migrate.KNOWN)


def test_both_backends_hold_the_tables_of_the_metadata(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        inspector = sa.inspect(ledger._db.connection)
        for table in metadata.sorted_tables:
            columns = [c["name"] for c in inspector.get_columns(table.name)]
            assert columns == [c.name for c in table.columns], table.name
        assert migrate.current(ledger._db) == migrate.HEAD


def test_a_ledger_of_an_unknown_newer_revision_is_refused(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        ledger._db.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(LedgerError, match="newer batchpay"):
        Ledger(ledger_url)


FOUR_EYES_AND_USERS = ("submissions", "approvals", "audit_entries", "users", "web_settings")


def test_the_old_ledger_gains_the_four_eyes_and_users_tables(tmp_path: Path) -> None:
    from batchpay.ledger.fouryes import append_audit, audit_entries
    from batchpay.ledger.users import add_user, get_user

    path = _old_ledger(tmp_path)
    with Ledger(path) as ledger:
        names = set(sa.inspect(ledger._db.connection).get_table_names())
        assert names >= set(FOUR_EYES_AND_USERS)
        entry = append_audit(ledger, "payroll-2026-11", "Alice", "report", {})
        add_user(ledger, "alice", "preparer", "$argon2id$x")
    with Ledger(path) as ledger:
        assert audit_entries(ledger, "payroll-2026-11") == [entry]
        assert get_user(ledger, "alice") is not None


def test_a_ledger_written_before_the_alembic_port_at_user_version_7_is_taken_over(
    tmp_path: Path,
) -> None:
    """The four-eyes and web changes first shipped as scripts 006 and 007 (never released):
    a SQLite ledger they wrote has those tables at user_version 7, and keeps their rows."""
    path = _old_ledger(tmp_path)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as db:
        wanted = [metadata.tables[name] for name in FOUR_EYES_AND_USERS]
        metadata.create_all(db, tables=wanted)
        db.exec_driver_sql(
            "INSERT INTO users (name, role, password_hash, created_at)"
            " VALUES ('bob', 'approver', '$argon2id$y', '2026-11-01')"
        )
        db.exec_driver_sql("PRAGMA user_version = 7")
    engine.dispose()
    from batchpay.ledger.users import get_user

    with Ledger(path) as ledger:
        assert migrate.current(ledger._db) == migrate.HEAD
        user = get_user(ledger, "bob")
        assert user is not None and user.role == "approver"
    assert _dump(path, "pragma_user_version") == [(7,)]
