"""A failure after payouts left: the report is written where it can be, the person is told
what happened and what to do, the exit code is 3, and the next run pays every row exactly once
(issue 11, item 3)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batchpay.providers.sandbox import SandboxProvider
from tests.cli.helpers import DiskFull, as_json, cli, ended

BANK = "batchpay-ledger.sandbox.sqlite"


def _on_first_payout(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    real = SandboxProvider.create
    fired: list[bool] = []

    def create(provider: SandboxProvider, request: Any) -> Any:
        if not fired:
            fired.append(True)
            action()
        return real(provider, request)

    monkeypatch.setattr(SandboxProvider, "create", create)


def _payouts_at_the_bank(workdir: Path) -> list[str]:
    db = sqlite3.connect(workdir / BANK)
    try:
        return [k for (k,) in db.execute("SELECT key FROM payouts")]
    finally:
        db.close()


def test_a_full_disk_mid_run_exits_3_with_the_report_and_the_next_run_pays_once(
    workdir: Path, write_sheet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = write_sheet([(f"E{i}", f"{10 + i}.00") for i in range(40)])
    disk = DiskFull(monkeypatch)
    _on_first_payout(monkeypatch, disk.arm)
    args = ("run", sheet, "--provider", "sandbox", "--batch", "b", "--concurrency", "2")

    result = ended(cli(*args, "--json"), 3)
    data = as_json(result)
    assert data["error"].startswith("the disk holding the ledger batchpay-ledger.sqlite is full")
    assert data["report_files"][0] == str(Path("reports", "b", "reconciliation.html"))
    assert "the disk holding the ledger batchpay-ledger.sqlite is full" in result.stderr
    assert "Payouts had already left" in result.stderr
    assert "report: reports/b." in result.stderr
    report = (workdir / "reports" / "b" / "reconciliation.csv").read_text(encoding="utf-8-sig")
    assert report.count("sending") >= 1 and report.count("planned") >= 1
    sent_before = _payouts_at_the_bank(workdir)
    assert 1 <= len(sent_before) < 40

    still_full = ended(cli(*args, "--json"), 2)  # refused before anything is sent
    assert still_full.stdout == "" and _payouts_at_the_bank(workdir) == sent_before

    disk.armed = False  # space was freed
    again = ended(cli(*args, "--json"), 0)
    assert as_json(again)["counts"] == {"completed": 40}
    keys = _payouts_at_the_bank(workdir)
    assert len(keys) == len(set(keys)) == 40  # every row paid, none twice


def test_a_report_folder_gone_mid_run_writes_the_report_elsewhere_and_exits_3(
    workdir: Path, write_sheet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = write_sheet([("A", "10.00"), ("B", "11.00")])
    out = workdir / "out"

    def vanish() -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.write_text("the folder's name is now a file")

    _on_first_payout(monkeypatch, vanish)
    args = ("run", sheet, "--provider", "sandbox", "--batch", "b", "--report-dir", out)
    out.mkdir()
    result = ended(cli(*args), 3)
    assert f"cannot write the report files into {out}" in result.stderr
    found = re.search(r"report: (\S+)\. Fix the cause", result.stderr)
    assert found is not None, result.stderr
    elsewhere = Path(found.group(1))
    assert elsewhere != out and elsewhere.name.startswith("batchpay-b-")
    csv = (elsewhere / "reconciliation.csv").read_text(encoding="utf-8-sig")
    assert csv.count("completed") == 2
    shutil.rmtree(elsewhere)
    assert len(_payouts_at_the_bank(workdir)) == 2


def test_a_report_folder_that_is_a_file_is_refused_before_the_first_payout(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet([("A", "10.00")])
    (workdir / "afile").write_text("x")
    result = ended(
        cli("run", sheet, "--provider", "sandbox", "--batch", "b", "--report-dir", "afile"), 2
    )
    assert "the report folder afile is a file, not a folder" in result.stderr
    assert not (workdir / "batchpay-ledger.sqlite").exists()
    nested = ended(
        cli("run", sheet, "--provider", "sandbox", "--batch", "b", "--report-dir", "afile/r"), 2
    )
    assert "cannot create the report folder afile/r: afile is a file" in nested.stderr
