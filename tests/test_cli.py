"""End to end through the command line, as a user or a cron job would call it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from batchpay.cli import main
from batchpay.ledger import batch_lock
from tests.conftest import SAMPLES, TRON

SAMPLE = SAMPLES / "payroll-2026-11.csv"


def _cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _json(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_validate_sample_and_a_broken_sheet(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    ok = _cli("validate", SAMPLE, "--provider", "sandbox")
    assert ok.exit_code == 0, ok.output
    assert "valid, 10 payable row(s)" in ok.stdout
    bad = write_sheet([("A", "1E+05"), ("A", "12")])
    result = _cli("validate", bad, "--json")
    assert result.exit_code == 1
    data = _json(result)
    assert data["valid"] is False
    assert {(i["row"], i["column"], i["code"], i["severity"]) for i in data["issues"]} == {
        (2, "amount", "amount.exponent", "error"),
        (2, "reference", "reference.duplicate", "error"),
        (3, "reference", "reference.duplicate", "error"),
    }
    assert all(i["message"] for i in data["issues"])


def test_run_twice_pays_once_and_reports_the_same(workdir: Path) -> None:
    first = _cli("run", SAMPLE, "--provider", "sandbox", "--batch", "payroll-2026-11", "--json")
    assert first.exit_code == 0, first.output
    data = _json(first)
    assert data["counts"] == {"completed": 10} and data["requests_sent"] == 10
    assert data["sandbox"] is True and data["identity_holds"] is True
    assert data["totals"]["USDT"]["requested"] == "9850.6234567"
    assert data["totals"]["USDT"]["sent"] == "9850.623456"
    reports = workdir / "reports" / "payroll-2026-11"
    assert sorted(p.name for p in reports.iterdir()) == [
        "attempts.csv",
        "journal.csv",
        "reconciliation.csv",
        "reconciliation.html",
        "reconciliation.xlsx",
    ]
    csv_before = (reports / "reconciliation.csv").read_bytes()
    assert "SANDBOX" in (reports / "reconciliation.html").read_text()

    again = _cli("run", SAMPLE, "--provider", "sandbox", "--batch", "payroll-2026-11", "--json")
    assert again.exit_code == 0
    assert _json(again)["requests_sent"] == 0
    assert (reports / "reconciliation.csv").read_bytes() == csv_before


def test_dry_run_prints_the_plan_and_writes_nothing(workdir: Path) -> None:
    result = _cli("run", SAMPLE, "--provider", "sandbox", "--batch", "X", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing sent, nothing written" in result.stdout
    assert "1500.1234567 rounded to 1500.123456" in result.stdout
    assert "recipients get" in result.stdout
    assert list(workdir.iterdir()) == []
    data = _json(
        _cli(
            "run",
            SAMPLE,
            "--provider",
            "sandbox",
            "--batch",
            "X",
            "--dry-run",
            "--json",
            "--fee-option",
            "add",
        )
    )
    assert data["dry_run"] is True and len(data["payouts"]) == 10
    assert data["totals"]["USDT"]["debited"] == "9854.623456"
    assert list(workdir.iterdir()) == []


def test_a_sheet_with_errors_sends_nothing(workdir: Path, write_sheet: Callable[..., Path]) -> None:
    bad = write_sheet([("A", "10"), ("B", "NaN")])
    result = _cli("run", bad, "--provider", "sandbox", "--batch", "b")
    assert result.exit_code == 1
    assert "amount.not_a_number" in result.stdout
    assert not (workdir / "batchpay-ledger.sqlite").exists()


def test_failed_rows_exit_3_and_retry_makes_a_new_attempt(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet([("A", "10.00"), ("B", "20.02"), ("C", "30.03")])
    run = _cli("run", sheet, "--provider", "sandbox", "--batch", "b", "--json")
    assert run.exit_code == 3
    assert _json(run)["counts"] == {"completed": 1, "failed": 1, "pending": 1}
    retried = _cli("retry", "--batch", "b", "--json")
    assert retried.exit_code == 3  # the sandbox fails .02 again, deterministically
    assert _json(retried)["requests_sent"] == 1
    csv_rows = (workdir / "reports" / "b" / "reconciliation.csv").read_text().splitlines()
    assert csv_rows[2].split(",")[13] == "2"  # row B: two attempts
    status = _cli("status", "--batch", "b", "--json")
    assert _json(status)["counts"] == {"completed": 1, "failed": 1, "pending": 1}


def test_pending_counts_as_done(workdir: Path, write_sheet: Callable[..., Path]) -> None:
    sheet = write_sheet([("A", "10.03")])
    assert _cli("run", sheet, "--provider", "sandbox", "--batch", "b").exit_code == 0
    assert _cli("status", "--batch", "b").exit_code == 0


def test_a_changed_amount_under_a_paid_reference_is_refused(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    assert (
        _cli("run", write_sheet([("A", "10")]), "--provider", "sandbox", "--batch", "b").exit_code
        == 0
    )
    result = _cli(
        "run", write_sheet([("A", "11")]), "--provider", "sandbox", "--batch", "b", "--json"
    )
    assert result.exit_code == 1
    (issue,) = _json(result)["issues"]
    assert issue["code"] == "plan.changed_after_send" and issue["row"] == 2


def test_usage_and_configuration_errors_exit_2(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _cli("run", SAMPLE, "--provider", "sandbox").exit_code == 2  # no --batch
    assert _cli("run", SAMPLE, "--provider", "nope", "--batch", "b").exit_code == 2
    assert _cli("validate", workdir / "missing.csv").exit_code == 2
    assert _cli("status", "--batch", "b").exit_code == 2  # no ledger yet
    missing = _cli("run", SAMPLE, "--provider", "oxapay", "--batch", "b")
    assert missing.exit_code == 2
    assert "BATCHPAY_OXAPAY_PAYOUT_API_KEY" in missing.stderr
    assert _cli("report", "--batch", "b", "--format", "pdf").exit_code == 2


def test_a_second_process_on_the_same_batch_exits_4(workdir: Path) -> None:
    with batch_lock(workdir / "batchpay-ledger.sqlite", "b"):
        result = _cli("run", SAMPLE, "--provider", "sandbox", "--batch", "b")
    assert result.exit_code == 4
    assert "another batchpay process" in result.stderr


def test_report_command_rebuilds_from_the_ledger(workdir: Path) -> None:
    assert _cli("run", SAMPLE, "--provider", "sandbox", "--batch", "b").exit_code == 0
    out = workdir / "elsewhere"
    result = _cli("report", "--batch", "b", "--format", "csv,html", "--report-dir", out)
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["reconciliation.csv", "reconciliation.html"]
    assert _cli("report", "--batch", "other").exit_code == 2


def test_the_installed_module_runs_as_a_real_process(workdir: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "batchpay",
            "run",
            str(SAMPLES / "payroll-2026-11.xlsx"),
            "--provider",
            "sandbox",
            "--batch",
            "xlsx-run",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # stdout is pure JSON; progress went to stderr
    assert data["counts"] == {"completed": 10}
    assert "sending" in proc.stderr


def test_sheet_flags_on_the_command_line(workdir: Path) -> None:
    sheet = workdir / "de.csv"
    sheet.write_text(
        "Mitarbeiter,amount,currency,network,address\n"
        f'M-1,"1.234,50",USDT,TRON,{TRON[0]}\n'
        f'M-2,"765,50",USDT,TRON,{TRON[1]}\n'
    )
    columns = workdir / "columns.toml"
    columns.write_text('"Mitarbeiter" = "reference"\n')
    ok = _cli(
        "validate",
        sheet,
        "--locale",
        "de_DE",
        "--columns",
        columns,
        "--expect-total",
        "2000.00",
        "USDT",
        "--expect-rows",
        "2",
        "--json",
    )
    assert ok.exit_code == 0, ok.output
    assert _json(ok)["totals"]["USDT"]["requested"] == "2000.00"
    off = _cli(
        "validate",
        sheet,
        "--locale",
        "de_DE",
        "--columns",
        columns,
        "--expect-total",
        "2000.01",
        "usdt",
        "--json",
    )
    assert off.exit_code == 1
    assert [i["code"] for i in _json(off)["issues"]] == ["control.total"]
    assert (workdir / "de.checked.xlsx").exists()  # the marked-up copy, by default
    bad = _cli("validate", sheet, "--expect-total", "lots", "USDT")
    assert bad.exit_code == 2 and "--expect-total" in bad.stderr
    paid = _cli(
        "run",
        sheet,
        "--provider",
        "sandbox",
        "--batch",
        "b",
        "--locale",
        "de_DE",
        "--columns",
        columns,
        "--json",
    )
    assert paid.exit_code == 0 and _json(paid)["totals"]["USDT"]["sent"] == "2000.00"
