"""The ledger's location: a path or a postgresql:// URL, from the flag, the config file or the
environment; a password, even one typed in the URL, is never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchpay.config import load_settings
from batchpay.errors import ConfigError, LedgerError
from batchpay.ledger import Ledger, LedgerUrl, parse_location
from tests.cli.helpers import cli, ended

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("postgresql://bob@db.example:5432/pay", "postgresql://bob@db.example:5432/pay"),
        (f"postgresql://bob:{SECRET}@db:5432/pay", "postgresql://bob:***@db:5432/pay"),
        (f"postgresql+psycopg://bob:{SECRET}@db/pay", "postgresql+psycopg://bob:***@db/pay"),
        (
            f"postgres://bob@/pay?host=/run/pg&password={SECRET}",
            "postgres://bob@/pay?host=/run/pg&password=***",
        ),
        # a typed password holding characters a URL reserves, unescaped (SQLAlchemy reads it
        # up to the last @): never shown in part
        (f"postgresql://bob:{SECRET}/x@db/pay", "postgresql://bob:***@db/pay"),
        (f"postgresql://bob:{SECRET}?x@db/pay", "postgresql://bob:***@db/pay"),
        (f"postgresql://bob:{SECRET}#x@db/pay", "postgresql://bob:***@db/pay"),
        (f"postgresql://bob:{SECRET}@x@db/pay", "postgresql://bob:***@db/pay"),
        (f"postgresql://bob@db/pay?password={SECRET}#x", "postgresql://bob@db/pay?password=***"),
        (
            f"postgresql://bob@db/pay?sslpassword={SECRET}",
            "postgresql://bob@db/pay?sslpassword=***",
        ),
    ],
)
def test_a_url_is_a_postgresql_ledger_shown_without_its_password(given: str, shown: str) -> None:
    where = parse_location(given)
    assert isinstance(where, LedgerUrl)
    assert str(where) == shown and SECRET not in repr(where)
    assert where.driver_url().startswith("postgresql+psycopg://")
    assert where.database == "pay"


def test_a_path_stays_a_path_and_another_url_is_refused() -> None:
    assert parse_location("books/ledger.sqlite") == Path("books/ledger.sqlite")
    with pytest.raises(ConfigError, match="neither a file path nor a postgresql"):
        parse_location(f"mysql://bob:{SECRET}@db/pay")
    with pytest.raises(ConfigError) as refused:
        parse_location(f"mysql://bob:{SECRET}@db/pay")
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    "mistyped",
    [
        f"postgresql:/bob:{SECRET}@db/pay",  # one slash: once a folder "postgresql:" and a file
        f"postgres:bob:{SECRET}@db/pay",
        f"postgresql+psycopg:/bob:{SECRET}@db/pay",
        f"sqlite:///bob:{SECRET}@db",
        f"postgresql:bob:{SECRET}@db",
    ],
)
def test_a_mistyped_url_is_refused_never_taken_for_a_file_nor_shown(mistyped: str) -> None:
    with pytest.raises(ConfigError, match="neither a file path nor a postgresql") as refused:
        parse_location(mistyped)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    "path", ["postgres.sqlite", "postgresql-ledger.sqlite", "C:/books/l.sqlite", "./sqlite:x"]
)
def test_a_file_named_like_a_database_stays_a_file(path: str) -> None:
    assert parse_location(path) == Path(path)


def test_the_url_comes_from_the_environment_the_config_file_and_the_flag(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://bob@/pay?host=/run/pg"
    monkeypatch.setenv("BATCHPAY_LEDGER", url)
    assert load_settings().ledger == LedgerUrl(url)
    monkeypatch.delenv("BATCHPAY_LEDGER")
    (workdir / "batchpay.toml").write_text(f'ledger = "{url}"\n', encoding="utf-8")
    assert load_settings().ledger == LedgerUrl(url)
    assert load_settings({"ledger": "x.sqlite"}).ledger == Path("x.sqlite")


def test_a_server_that_is_not_there_is_a_clear_error_without_the_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://bob:{SECRET}@/pay?host={tmp_path}"
    with pytest.raises(LedgerError, match="cannot reach the PostgreSQL server") as failed:
        Ledger(url)
    assert SECRET not in str(failed.value) and "bob:***@" in str(failed.value)
    result = ended(cli("status", "--batch", "b", "--ledger", url), 2)
    assert SECRET not in result.stdout + result.stderr
    assert "cannot reach the PostgreSQL server" in result.stderr


def test_no_command_prints_the_password_of_a_real_database(ledger_url: str) -> None:
    if not ledger_url.startswith("postgresql"):
        pytest.skip("a file has no password")
    user, rest = ledger_url.split("://", 1)[1].split("@", 1)
    url = f"postgresql://{user}:{SECRET}@{rest}"  # the test cluster trusts any password
    result = ended(cli("status", "--batch", "nope", "--ledger", url), 2)
    assert "is not in the ledger postgresql://batchpay_test:***@" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    result = ended(cli("report", "--batch", "nope", "--ledger", url), 2)
    assert SECRET not in result.stdout + result.stderr
