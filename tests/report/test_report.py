from __future__ import annotations

import dataclasses
import os
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from batchpay.cells import formula_safe
from batchpay.ledger import Ledger
from batchpay.model import PayoutRow
from batchpay.plan import make_plan
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.report import (
    CSV_COLUMNS,
    FORMATS,
    build_report,
    render_csv,
    write_report,
)
from batchpay.send import Engine, RetryPolicy
from tests.conftest import FixedClock

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BATCHPAY_UPDATE_GOLDEN") == "1"


def _row(
    n: int,
    ref: str,
    requested: str,
    sent: str,
    currency: str = "USDT",
    name: str = "Pat",
    memo: str | None = None,
) -> PayoutRow:
    return PayoutRow(
        n,
        ref,
        Decimal(requested),
        Decimal(sent),
        Decimal(sent) - Decimal(requested),
        currency,
        "TRON",
        "TFEkshkSXo8yMe8vcA6P77XmiLfstNWHyT",
        memo=memo,
        name=name,
    )


def _mixed_ledger(tmp_path: Path) -> Ledger:
    """completed, rounded, failed (final and operator), pending, unknown and not sent."""
    rows = [
        _row(2, "E-1", "100.00", "100.00", name="Sébastien", memo="104365"),
        _row(3, "E-2", "10.1234567", "10.123456"),
        _row(4, "E-3", "20.02", "20.02"),  # failed: recipient not found
        _row(5, "E-4", "30.01", "30.01"),  # failed: insufficient funds
        _row(6, "E-5", "40.03", "40.03"),  # stays pending
        _row(7, "E-6", "50.00", "50.00"),  # answer lost: unknown
        _row(8, "E-7", "60.00", "60.00", currency="USDC"),  # never gets through: planned
        _row(9, '=HYPERLINK("http://x")', "1.00", "1.00", name="@SUM(A1:A9)"),
        _row(10, "E-9", "2.00", "2.00", name="+cmd|' /C calc'!A0"),
    ]
    ledger = Ledger(tmp_path / "l.sqlite", clock=FixedClock())
    ledger.save_plan(
        make_plan("payroll-2026-11", "sandbox", "payroll.csv", "ab" * 32, rows),
        sandbox=True,
        rounding="down",
        fee_option="deduct",
    )

    def faults(action: str, request: object) -> str | None:
        reference = getattr(request, "reference", "")
        return {"E-6": "drop_after", "E-7": "drop_before"}.get(reference)

    Engine(
        ledger=ledger,
        provider=SandboxProvider(SandboxBank(), faults),
        batch="payroll-2026-11",
        concurrency=1,
        retry=RetryPolicy(max_tries=2),
        sleep=lambda s: None,
    ).send_planned()
    return ledger


def _golden(written: Path) -> None:
    """The file as written, byte for byte (a CSV's BOM included)."""
    path = GOLDEN / written.name
    if UPDATE:
        path.write_bytes(written.read_bytes())
    assert written.read_bytes() == path.read_bytes(), f"{path.name} differs from its golden file"


def test_golden_files(tmp_path: Path) -> None:
    with _mixed_ledger(tmp_path) as ledger:
        report = build_report(ledger, "payroll-2026-11")
    for path in write_report(report, tmp_path / "out", ("csv", "html", "journal")):
        _golden(path)


def test_control_identity_holds_for_mixed_outcomes(tmp_path: Path) -> None:
    with _mixed_ledger(tmp_path) as ledger:
        report = build_report(ledger, "payroll-2026-11")
    usdt = next(s for s in report.summaries if s.currency == "USDT")
    assert usdt.requested == Decimal("253.1834567")
    assert usdt.buckets["completed"] == Decimal("113.1234567")
    assert usdt.buckets["failed"] == Decimal("50.03")
    assert usdt.buckets["pending"] == Decimal("40.03")
    assert usdt.buckets["unknown"] == Decimal("50.00")
    assert usdt.rounding_delta == Decimal("-0.0000007")
    assert usdt.identity_holds and report.identity_holds
    usdc = next(s for s in report.summaries if s.currency == "USDC")
    assert usdc.buckets["not_sent"] == Decimal("60.00") and usdc.sent == 0
    # every row not completed is an exception (pending and never sent ones too), and so is
    # a completed row that was rounded
    assert {r.reference for r in report.exceptions} == {"E-2", "E-3", "E-4", "E-5", "E-6", "E-7"}
    counts = {k: v for k, v in report.counts.items() if v}
    assert counts == {"completed": 4, "failed": 2, "pending": 1, "unknown": 1, "planned": 1}


def _report_of(rows: list[PayoutRow], tmp_path: Path, formats: tuple[str, ...] = FORMATS) -> None:
    """Plan ``rows`` into a fresh ledger and write their report files to tmp_path/out."""
    with Ledger(tmp_path / "l.sqlite", clock=FixedClock()) as ledger:
        ledger.save_plan(
            make_plan("b", "sandbox", "s.csv", "", rows),
            sandbox=True,
            rounding="down",
            fee_option="deduct",
        )
        write_report(build_report(ledger, "b"), tmp_path / "out", formats)


def test_same_ledger_same_report(tmp_path: Path) -> None:
    with _mixed_ledger(tmp_path) as ledger:
        first = render_csv(build_report(ledger, "payroll-2026-11"))
        second = render_csv(build_report(ledger, "payroll-2026-11"))
    assert first == second


def test_no_cell_can_be_a_formula_and_numbers_stay_numbers(tmp_path: Path) -> None:
    with _mixed_ledger(tmp_path) as ledger:
        report = build_report(ledger, "payroll-2026-11")
    files = write_report(report, tmp_path / "out")
    assert sorted(p.name for p in files) == [
        "attempts.csv",
        "journal.csv",
        "reconciliation.csv",
        "reconciliation.html",
        "reconciliation.xlsx",
    ]
    csv_text = (tmp_path / "out" / "reconciliation.csv").read_text()
    assert "'=HYPERLINK" in csv_text and "'@SUM" in csv_text and "'+cmd" in csv_text
    assert ",-0.0000007," in csv_text
    wb = openpyxl.load_workbook(tmp_path / "out" / "reconciliation.xlsx")
    rows = wb["Rows"]
    for row in rows.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", f"formula in {cell.coordinate}"
    header = [c.value for c in rows[1]]
    delta = rows.cell(row=3, column=header.index("rounding_delta") + 1).value
    assert delta == Decimal("-0.0000007") or delta == pytest.approx(-0.0000007)
    assert rows.freeze_panes == "A2" and rows.auto_filter.ref
    assert wb["Summary"]["A1"].value == "batch payroll-2026-11"


def test_values_beyond_spreadsheet_precision_are_written_as_text(tmp_path: Path) -> None:
    rows = [_row(2, "E-1", "1.123456789012345678", "1.123456789012345678")]
    _report_of(rows, tmp_path, ("xlsx",))
    sheet = openpyxl.load_workbook(tmp_path / "out" / "reconciliation.xlsx")["Rows"]
    assert sheet.cell(row=2, column=7).value == "1.123456789012345678"


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("-0.5", "-0.5"),
        ("-x", "'-x"),
        ("\tcmd", "'\tcmd"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_formula_safe(text: str, safe: str) -> None:
    assert formula_safe(text) == safe


def test_journal_balances_per_currency_for_both_fee_options(tmp_path: Path) -> None:
    from batchpay.report import journal_lines, render_journal

    with _mixed_ledger(tmp_path) as ledger:
        report = build_report(ledger, "payroll-2026-11")
    for fee_option in ("deduct", "add"):
        batch = dataclasses.replace(report.batch, fee_option=fee_option)
        lines = journal_lines(
            dataclasses.replace(report, batch=batch), {"provider": "1020 {provider} wallet"}
        )
        for currency in {line.currency for line in lines}:
            mine = [line for line in lines if line.currency == currency]
            assert sum(line.debit for line in mine) == sum(line.credit for line in mine)
        credit = next(line for line in lines if line.credit)
        assert credit.account == "1020 sandbox wallet"
        # completed rows only: 100 + 10.123456 + 1 + 2 sent, 4 in fees
        assert credit.credit == (
            Decimal("113.123456") if fee_option == "deduct" else Decimal("117.123456")
        )
    text = render_journal(report)
    assert text.splitlines()[0] == "date,journal,currency,account,debit,credit,description"
    assert ",USDT,Payroll expense,109.123456,," in text


def test_attempts_csv_lists_every_request(tmp_path: Path) -> None:
    from batchpay.report import render_attempts

    with _mixed_ledger(tmp_path) as ledger:
        report = build_report(ledger, "payroll-2026-11")
    lines = render_attempts(report).splitlines()
    assert lines[0].startswith("row,reference,attempt,try,action,started_at")
    e7 = [line.split(",") for line in lines if ",E-7," in line]
    # E-7 never gets through: both requests of its one attempt are there, tries 1 and 2,
    # under the same key; the row is left planned by the second
    assert [(c[2], c[3], c[10], c[11]) for c in e7] == [
        ("1", "1", "sending", "not_sent"),
        ("1", "2", "planned", "not_sent"),
    ]
    assert len({c[7] for c in e7}) == 1
    e6 = next(line for line in lines if ",E-6," in line)
    assert "read_timeout" in e6 and ",unknown," in e6


def test_descriptions_are_inert_in_csv_and_xlsx(tmp_path: Path) -> None:
    rows = [
        PayoutRow(
            2,
            "E-1",
            Decimal(1),
            Decimal(1),
            Decimal(0),
            "USDT",
            "TRON",
            "TFEkshkSXo8yMe8vcA6P77XmiLfstNWHyT",
            name="=cmd|'/C calc'!A0",
            description="@SUM(1+1)*cmd|' /C calc'!A0",
        )
    ]
    _report_of(rows, tmp_path)
    csv_text = (tmp_path / "out" / "reconciliation.csv").read_text()
    assert "'=cmd" in csv_text and "'@SUM" in csv_text
    sheet = openpyxl.load_workbook(tmp_path / "out" / "reconciliation.xlsx")["Rows"]
    values = [c.value for c in sheet[2]]
    assert "'=cmd|'/C calc'!A0" in values and "'@SUM(1+1)*cmd|' /C calc'!A0" in values
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_xlsx_rows_hold_what_each_cell_of_the_report_row_holds(tmp_path: Path) -> None:
    from batchpay.report.render import _xlsx_rows, _xlsx_value

    with _mixed_ledger(tmp_path) as ledger:
        report = build_report(ledger, "payroll-2026-11")
    written = list(_xlsx_rows(report))
    assert written[0] == list(CSV_COLUMNS)
    assert written[1:] == [[_xlsx_value(c) for c in r.cells()] for r in report.rows]
