"""Two processes opening a new PostgreSQL ledger at once build it once: the second waits for
the first's upgrade (an advisory lock), then finds the schema current. Driven by a gate: the
first upgrade stops inside its transaction until the second is seen waiting on the server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from batchpay.ledger import Ledger, migrate
from batchpay.ledger.connection import Db
from tests.safety.test_lock_order import HANG, _waits_for_a_lock


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture
def empty_url(pg_url: str) -> Iterator[str]:
    """A database with no tables at all (not a copy of the migrated template)."""
    name = f"e_{uuid.uuid4().hex[:12]}"
    engine = _engine(pg_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    base, mark, query = pg_url.partition("?")
    url = f"{base.rpartition('/')[0]}/{name}{mark}{query}"
    yield url
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    engine.dispose()


def test_two_processes_opening_a_new_ledger_at_once_build_it_once(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached, go = threading.Event(), threading.Event()
    runs: list[str] = []
    original = migrate._run_alembic

    def gated(db: Db) -> None:
        runs.append(threading.current_thread().name)
        if len(runs) == 1:
            reached.set()
            assert go.wait(HANG)
        original(db)

    monkeypatch.setattr(migrate, "_run_alembic", gated)
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Ledger(empty_url).close()
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=open_it, name="first")
    first.start()
    assert reached.wait(HANG), errors
    second = threading.Thread(target=open_it, name="second")
    second.start()
    _waits_for_a_lock(empty_url)  # the second waits for the first's upgrade
    go.set()
    for thread in (first, second):
        thread.join(HANG)
        assert not thread.is_alive()
    assert errors == [] and runs == ["first"]  # built once, by the first
    with Ledger(empty_url) as ledger:
        assert migrate.current(ledger._db) == migrate.HEAD
