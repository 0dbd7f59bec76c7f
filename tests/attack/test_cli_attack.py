"""A hostile tester at the command line (issues 11 and 12): each fault found is a test here,
asserting the right exit code and sentence, never only "no crash"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchpay.emulator import Emulator
from batchpay.emulator.server import EmulatorServer
from tests.cli.helpers import cli, ended
from tests.cli.test_provider_trouble import WRONG, _sheet
from tests.conftest import sheet_text

WRONG_VALUE = "wrong-S3CR3T-value"


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    srv = EmulatorServer(Emulator())
    srv.start()
    yield srv
    srv.stop()


def test_an_env_file_that_is_not_utf8_is_a_config_error_naming_the_line_not_a_crash(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = workdir / "batchpay.env"
    env.write_bytes(b"# keys\nBATCHPAY_OXAPAY_PAYOUT_API_KEY=s\xe9cret\xff\n")
    monkeypatch.setenv("BATCHPAY_ENV_FILE", str(env))
    (workdir / "s.csv").write_text(sheet_text([("A", "10.00")]))

    for args in (
        ("status", "--batch", "b"),
        ("run", "s.csv", "--provider", "oxapay", "--batch", "b"),
    ):
        result = ended(cli(*args), 2)
        assert f"cannot read env file {env}: line 2 is not UTF-8 text" in result.stderr
        assert "internal error" not in result.stderr
        assert "0xff" not in result.stderr and "0xe9" not in result.stderr  # no secret bytes


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_report_dir_the_access_check_calls_writable_but_is_not_refuses_before_paying(
    workdir: Path,
) -> None:
    # As root, access(2) says /proc is writable; creating a file there fails. The run used
    # to pay every row and then fail to write the report, exiting 3.
    (workdir / "s.csv").write_text(sheet_text([("A", "10.00"), ("B", "20.00")]))
    for extra in ((), ("--dry-run",)):
        args = ("run", "s.csv", "--provider", "sandbox", "--batch", "b", "--report-dir", "/proc")
        result = ended(cli(*args, *extra), 2)
        assert "cannot write the report folder /proc" in result.stderr
    assert not (workdir / "batchpay-ledger.sandbox.sqlite").exists() or "sending" not in (
        result.stderr
    )
    result = ended(cli("report", "--batch", "b", "--report-dir", "/proc"), 2)
    assert "cannot write the report folder /proc" in result.stderr
    assert not list(Path("/proc").glob(".batchpay-probe-*"))


def test_report_with_an_empty_format_list_is_a_usage_error_listing_the_formats(
    workdir: Path,
) -> None:
    (workdir / "s.csv").write_text(sheet_text([("A", "10.00")]))
    ended(cli("run", "s.csv", "--provider", "sandbox", "--batch", "b"), 0)
    for formats in ("", ",", " , "):
        result = ended(cli("report", "--batch", "b", "--format", formats, "--report-dir", "r"), 2)
        assert "no format given; valid formats: html, csv, xlsx" in result.stderr
    assert not (workdir / "r").exists()


@pytest.mark.parametrize("provider", sorted(WRONG))
def test_refused_credentials_never_report_rows_as_done_nor_print_the_secret(
    server: EmulatorServer, workdir: Path, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    variable, _ = WRONG[provider]
    for name, value in (server.emulator.env(server.url) | {variable: WRONG_VALUE}).items():
        monkeypatch.setenv(name, value)
    sheet = _sheet(workdir / "s.csv", provider, 12)
    for as_json in ((), ("--json",)):
        batch = f"b{len(as_json)}"
        args = ("run", sheet, "--provider", provider, "--batch", batch, "--concurrency", "1")
        result = ended(cli(*args, *as_json, "--allow-duplicates"), 2)
        # the engine used to count every row refused by the open breaker as done: "12/12 done"
        assert "12/12 done" not in result.stderr
        if "sending: 12 row(s)" in result.stderr:
            assert "sending: 0/12 done" in result.stderr
        assert WRONG_VALUE not in result.stdout + result.stderr
    ledger = (workdir / "batchpay-ledger.sqlite").read_bytes()
    assert WRONG_VALUE.encode() not in ledger
    for path in (workdir / "reports").rglob("*"):
        if path.is_file():
            assert WRONG_VALUE.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("kind", ["no_folder", "folder", "garbage", "future"])
def test_webhooks_serve_refuses_a_ledger_it_cannot_use_at_start(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # It used to listen, and fail (or create an empty ledger) at every callback.
    import sqlite3

    from batchpay import serving

    def serve(server: Any) -> None:  # had it started, the test would not end
        server.server_close()
        raise SystemExit(99)

    monkeypatch.setattr(serving, "serve_until_interrupted", serve)
    monkeypatch.setenv("BATCHPAY_OXAPAY_PAYOUT_API_KEY", "k")
    ledger = workdir / ("nowhere/l.sqlite" if kind == "no_folder" else "l.sqlite")
    expected = {
        "no_folder": "no ledger at",
        "folder": "cannot open the ledger",
        "garbage": "is not a usable batchpay ledger",
        "future": "was written by a newer batchpay (schema 99)",
    }[kind]
    if kind == "folder":
        ledger.mkdir()
    elif kind == "garbage":
        ledger.write_text("not a database\n" * 100)
    elif kind == "future":
        db = sqlite3.connect(ledger)
        db.execute("PRAGMA user_version = 99")
        db.close()
    result = ended(cli("webhooks", "serve", "--port", "0", "--ledger", ledger), 2)
    assert expected in result.stderr
    assert "batchpay webhooks: http" not in result.stdout
    assert kind == "folder" or not ledger.is_dir()


@pytest.mark.parametrize("wait", ["nan", "NaN", "inf", "1e400", "-5"])
def test_status_wait_that_never_ends_or_is_negative_is_a_usage_error(
    workdir: Path, wait: str
) -> None:
    # nan passed click's range check and polled for ever
    (workdir / "s.csv").write_text(sheet_text([("A", "10.03")]))  # stays pending in the sandbox
    ended(cli("run", "s.csv", "--provider", "sandbox", "--batch", "b"), 0)
    result = ended(cli("status", "--batch", "b", "--wait", wait), 2)
    assert "Invalid value for '--wait'" in result.stderr
