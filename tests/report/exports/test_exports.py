"""Issue 17: the accounting exports. Golden files for every format (regenerate them with
``BATCHPAY_UPDATE_GOLDEN=1 python -m pytest tests/report/exports``, then read the diff), the
CSV exports checked column by column against their templates in schemas/exports.toml, the
same ledger giving the same bytes, and the same EUR totals in the HTML, the XLSX Summary and
every export."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from batchpay.money import total
from batchpay.report import build_report, write_report
from batchpay.report.exports import CSV_EXPORTS, EXPORT_FILES, EXPORT_FORMATS
from batchpay.report.exports.csvjournal import template
from batchpay.report.exports.formats import render_export
from batchpay.report.exports.journal import build_books
from batchpay.report.valuation import row_values, value_report
from tests.report.exports.books import (
    BATCH,
    NOT_BOOKED,
    _row,
    account_map,
    make_ledger,
    valued,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BATCHPAY_UPDATE_GOLDEN") == "1"
ALL = ("html", "xlsx", "journal", *EXPORT_FORMATS)


def _write(tmp_path: Path, out: str, fee_option: str = "deduct") -> list[Path]:
    report, valuation, _ = valued(tmp_path / f"ledger-{out}", fee_option)
    return write_report(report, tmp_path / out, ALL, None, valuation, account_map())


def _rows(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_golden_files_for_every_format(tmp_path: Path) -> None:
    files = {p.name: p for p in _write(tmp_path, "out")}
    for fmt in EXPORT_FORMATS:
        written = files[EXPORT_FILES[fmt]]
        golden = GOLDEN / written.name
        if UPDATE:
            golden.write_bytes(written.read_bytes())
        assert written.read_bytes() == golden.read_bytes(), f"{golden.name} differs"


def test_the_same_ledger_gives_the_same_bytes(tmp_path: Path) -> None:
    first = {p.name: p.read_bytes() for p in _write(tmp_path, "one")}
    second = {p.name: p.read_bytes() for p in _write(tmp_path, "two")}
    for fmt in EXPORT_FORMATS:
        name = EXPORT_FILES[fmt]
        assert first[name] == second[name], name
    assert first["reconciliation.html"] == second["reconciliation.html"]


@pytest.mark.parametrize("fmt", CSV_EXPORTS)
def test_csv_exports_follow_their_template_column_by_column(tmp_path: Path, fmt: str) -> None:
    spec = template(fmt)
    path = next(p for p in _write(tmp_path, "out") if p.name == spec["file"])
    assert spec["file"] == EXPORT_FILES[fmt]
    text = path.read_bytes().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert header == spec["columns"]
    rows = _rows(path)
    assert rows, "no lines"
    balance: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        _check_line(fmt, spec, row, balance)
    assert all(v == 0 for v in balance.values()), balance


def _check_line(
    fmt: str, spec: dict[str, object], row: dict[str, str], balance: dict[tuple[str, str], Decimal]
) -> None:
    date_column = {"qbo": "Journal Date", "xero": "Date", "netsuite": "Date"}[fmt]
    dt.datetime.strptime(row[date_column], str(spec["date_format"]))  # raises if not
    described = row[{"qbo": "Description", "xero": "Description", "netsuite": "Line Memo"}[fmt]]
    assert re.search(r"row \d+ \| E-\d \| .+ \| provider ref sbx_", described), described
    account = row[{"qbo": "Account Name", "xero": "AccountCode", "netsuite": "Account"}[fmt]]
    if spec["account"] == "name":
        assert account in {
            "Payroll expense",
            "Payout fees",
            "USDT wallet",
            "Provider balance (sandbox)",
        }
    else:
        assert account in {"6100", "6150", "1210", "1200"}
    if "NOT VALUED" in described:  # a row with no rate: no amount, never a guess
        amounts = [row.get(c, "") for c in ("Debits", "Credits", "Debit", "Credit", "Amount")]
        assert all(a == "" for a in amounts)
        return
    group = {"qbo": ("Journal No",), "xero": ("Narration", "Date"), "netsuite": ("External ID",)}
    key = tuple(row[c] for c in group[fmt])
    if spec["sign"] == "signed":
        amount = Decimal(row["Amount"])
        assert amount != 0
    else:
        debit, credit = (
            row[c] for c in (("Debits", "Credits") if fmt == "qbo" else ("Debit", "Credit"))
        )
        assert (debit == "") != (credit == ""), row  # exactly one of the two
        amount = Decimal(debit) if debit else -Decimal(credit)
        assert Decimal(debit or credit) > 0
    assert -amount.as_tuple().exponent == spec["decimals"]  # type: ignore[operator]
    balance[(key[0], key[-1])] += amount
    if fmt == "xero":
        assert row["TaxRate"] == "Tax Exempt"
    if fmt == "netsuite":
        assert row["Currency"] == "EUR" and row["Memo"].startswith(f"batchpay {BATCH} ")


def test_every_line_leads_back_to_its_payout_and_only_completed_rows_are_booked(
    tmp_path: Path,
) -> None:
    report, _, books = valued(tmp_path)
    completed = {r.reference: r for r in report.rows if r.status == "completed"}
    assert set(completed) == {"E-1", "E-2", "E-5", "E-6"}
    for journal in books.journals:
        for line in journal.lines:
            assert line.row.reference in completed
    for fmt in EXPORT_FORMATS:
        text = render_export(fmt, books)
        for ref in NOT_BOOKED:
            assert ref not in text, (fmt, ref)
        for row in completed.values():
            assert row.provider_ref in text and row.reference in text, (fmt, row.reference)
        assert "104365" in text  # E-1's memo
    qbo = list(csv.DictReader(io.StringIO(render_export("qbo", books))))
    for cells in qbo:
        row = next(r for r in completed.values() if f"| {r.reference} |" in cells["Description"])
        assert row.provider_ref in cells["Description"] and row.name in cells["Description"]
        assert cells["Name"] in (row.name, "'" + row.name)


def test_journals_balance_with_fees_and_rounding_as_their_own_postings(tmp_path: Path) -> None:
    for fee_option in ("deduct", "add"):
        _, _, books = valued(tmp_path / fee_option, fee_option)
        usdt = next(j for j in books.journals if j.currency == "USDT")
        assert sum(line.amount for line in usdt.lines) == 0
        assert sum(line.value or 0 for line in usdt.lines) == 0
        roles = {line.account.role for line in usdt.lines}
        assert roles == {"expense", "fees", "rounding", "provider"}
        rounding = [line for line in usdt.lines if line.account.role == "rounding"]
        assert [line.amount for line in rounding] == [Decimal("-0.0000007")]
        paid = -sum(line.amount for line in usdt.lines if line.account.role == "provider")
        fees = sum(line.amount for line in usdt.lines if line.account.role == "fees")
        sent = Decimal("100.00") + Decimal("10.123456") + Decimal("25.50")
        assert paid == (sent + fees if fee_option == "add" else sent)


def test_each_row_records_its_rate_and_source_and_a_row_without_one_is_not_valued(
    tmp_path: Path,
) -> None:
    _, valuation, books = valued(tmp_path)
    by_ref = {b.row.reference: b for b in valuation.bookings}
    assert by_ref["E-1"].date == "2026-11-01" and by_ref["E-6"].date == "2026-11-02"
    assert by_ref["E-1"].rate is not None and by_ref["E-1"].rate.rate == Decimal("0.9215")
    assert by_ref["E-1"].rate.source == "rates.csv 2026-11-01"
    assert by_ref["E-6"].rate is not None and by_ref["E-6"].rate.source == "rates.csv 2026-11-02"
    assert by_ref["E-5"].rate is None and by_ref["E-5"].values is None
    usdc = next(t for t in valuation.totals if t.currency == "USDC")
    assert (usdc.valued_rows, usdc.unvalued_rows, usdc.paid) == (0, 1, Decimal("0.00"))
    note = "NOT VALUED: no EUR rate for USDC on 2026-11-01 in rates.csv"
    for fmt in EXPORT_FORMATS:
        assert note in render_export(fmt, books) or "NOT VALUED" in render_export(fmt, books), fmt
    assert note in render_export("beancount", books) and note in render_export("hledger", books)


def _totals_from_exports(tmp_path: Path, files: dict[str, Path]) -> dict[str, dict[str, Decimal]]:
    """EUR totals per export: {format: {"expense", "fees", "paid"}} (USDT, the valued journal)."""
    found: dict[str, dict[str, Decimal]] = {}
    roles = {"6100": "expense", "6150": "fees", "1210": "paid", "Payroll expense": "expense"}
    roles |= {"Payout fees": "fees", "USDT wallet": "paid"}
    for fmt, account, debit, credit in (
        ("qbo", "Account Name", "Debits", "Credits"),
        ("netsuite", "Account", "Debit", "Credit"),
        ("xero", "AccountCode", "Amount", ""),
    ):
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for row in _rows(files[EXPORT_FILES[fmt]]):
            if row[account] in roles and "NOT VALUED" not in str(row):
                value = Decimal(row[debit] or 0) - Decimal(row.get(credit) or 0)
                sums[roles[row[account]]] += abs(value)
        found[fmt] = dict(sums)
    for fmt in ("beancount", "hledger"):
        text = files[EXPORT_FILES[fmt]].read_text(encoding="utf-8")
        usdt = text[text.index(f"{BATCH}/USDT") :]
        found[fmt] = {
            k: Decimal(re.search(rf"value_{k}: \"?([0-9.]+) EUR", usdt).group(1))  # type: ignore[union-attr]
            for k in ("expense", "fees", "paid")
        }
    return found


def test_the_same_eur_totals_in_html_xlsx_summary_and_every_export(tmp_path: Path) -> None:
    files = {p.name: p for p in _write(tmp_path, "out")}
    want = {"expense": Decimal("122.43"), "fees": Decimal("2.77"), "paid": Decimal("125.20")}
    for fmt, totals in _totals_from_exports(tmp_path, files).items():
        assert totals == want, fmt
    html = files["reconciliation.html"].read_text(encoding="utf-8")
    section = html[html.index("<h2>Valued in EUR</h2>") :]
    usdt = re.search(r"<tr><td>USDT</td>(.*?)</tr>", section)
    assert usdt is not None
    cells = re.findall(r"<td>([^<]*)</td>", usdt.group(1))
    assert cells == ["3", "0", "122.43", "2.77", "0.00", "125.20"]
    assert "NOT VALUED" in section
    summary = openpyxl.load_workbook(files["reconciliation.xlsx"])["Summary"]
    lines = [[c.value for c in r] for r in summary.iter_rows()]
    at = next(i for i, r in enumerate(lines) if r[0] == "Valued in EUR")
    header = lines[at + 1]
    usdt_line = next(r for r in lines[at + 2 :] if r[0] == "USDT")
    got = {k: Decimal(str(usdt_line[header.index(k)])) for k in ("expense", "fees", "paid")}
    assert got == want
    rates = openpyxl.load_workbook(files["reconciliation.xlsx"])["Valuation"]
    sources = {r[1].value: r[5].value for r in rates.iter_rows(min_row=2)}
    assert sources == {
        "E-1": "rates.csv 2026-11-01",
        "E-2": "rates.csv 2026-11-01",
        "E-5": "NOT VALUED",
        "E-6": "rates.csv 2026-11-02",
    }


def test_without_a_reporting_currency_the_exports_book_each_payouts_currency(
    tmp_path: Path,
) -> None:
    with make_ledger(tmp_path) as ledger:
        report = build_report(ledger, BATCH)
    books = build_books(report, value_report(report, None, None), account_map())
    qbo = list(csv.DictReader(io.StringIO(render_export("qbo", books))))
    assert "NOT VALUED" not in str(qbo)
    e1 = [r for r in qbo if "| E-1 |" in r["Description"]]
    assert [(r["Account Name"], r["Debits"], r["Credits"]) for r in e1] == [
        ("Payroll expense", "99.00", ""),
        ("Payout fees", "1", ""),
        ("USDT wallet", "", "100.00"),
    ]
    netsuite = list(csv.DictReader(io.StringIO(render_export("netsuite", books))))
    assert {r["Currency"] for r in netsuite} == {"USDC", "USDT"}
    assert "value_" not in render_export("hledger", books)


def test_a_payout_paid_from_another_balance_credits_that_balance_and_says_so(
    tmp_path: Path,
) -> None:
    """2328io ``from_currency``: the TRX payout was debited (converted) from the USDT balance,
    so its provider line goes to the USDT balance's account, and every line says the USDT
    amount debited must be booked by hand (the ledger does not have it)."""
    trx = dataclasses.replace(
        _row(2, "E-1", "30.00", "30.00", currency="TRX"), extra={"from_currency": "usdt"}
    )
    plain = _row(3, "E-2", "10.00", "10.00", currency="TRX")
    with make_ledger(tmp_path, rows=[trx, plain]) as ledger:
        report = build_report(ledger, BATCH)
    books = build_books(report, value_report(report, None, None), account_map())
    lines = {
        (line.row.reference, line.account.role): line for j in books.journals for line in j.lines
    }
    assert lines[("E-1", "provider")].account.name == "USDT wallet"
    assert lines[("E-2", "provider")].account.name == "Provider balance (sandbox)"
    assert lines[("E-1", "expense")].account.name == "Payroll expense"
    note = "paid from the USDT balance (converted by the provider): book the USDT debited by hand"
    qbo = list(csv.DictReader(io.StringIO(render_export("qbo", books))))
    assert [note in r["Description"] for r in qbo] == [True] * 3 + [False] * 3
    beancount = render_export("beancount", books)
    assert beancount.count('debited_from: "USDT"') == 3
    assert render_export("hledger", books).count("debited_from: USDT") == 3


def test_valuing_is_exact_until_the_cents_whatever_the_digits_of_the_rate() -> None:
    """The thread's 28-digit context rounded the product first (twice rounded) or, for a
    product of more than 26 integer digits, raised InvalidOperation (a traceback)."""
    amounts = {
        "expense": Decimal("12345677.123456"),
        "fees": Decimal("1"),
        "rounding": Decimal("0"),
        "provider": Decimal("-12345678.123456"),
    }
    huge = row_values(amounts, Decimal("99999999999999999999.000000000000000000000000000001"))
    assert huge["provider"] == Decimal("-1234567812345599999987654321.88")
    assert total(huge.values()) == 0
    assert huge["expense"] == Decimal("1234567712345599999987654322.88")  # not 28 digits
    # a fee worth 0.00499...9 (35 nines) EUR is 0.00; rounded to 28 digits first it was 0.005,
    # and then 0.01
    tiny = {"expense": Decimal(0), "fees": Decimal("1"), "rounding": Decimal(0)}
    tiny["provider"] = Decimal("-1")
    assert row_values(tiny, Decimal("0.004" + "9" * 35))["fees"] == Decimal("0.00")


def test_an_18_decimal_amount_of_29_digits_is_booked_to_the_last_digit(tmp_path: Path) -> None:
    """``-amount`` rounds to the thread's 28 digits: the provider line lost its last digits
    and the journal no longer balanced."""
    big = dataclasses.replace(
        _row(2, "E-1", "12345678901", "12345678901", currency="DAI"),
        amount_requested=Decimal("12345678901.123456789012345678"),
        amount=Decimal("12345678901.123456789012345678"),
    )
    with make_ledger(tmp_path, rows=[big]) as ledger:
        report = build_report(ledger, BATCH)
    books = build_books(report, value_report(report, None, None), account_map())
    provider = next(line for line in books.journals[0].lines if line.account.role == "provider")
    assert provider.amount == Decimal("-12345678901.123456789012345678")
    assert total(line.amount for line in books.journals[0].lines) == 0
    qbo = list(csv.DictReader(io.StringIO(render_export("qbo", books))))
    assert qbo[-1]["Credits"] == "12345678901.123456789012345678"


def test_control_and_bidi_characters_from_a_provider_never_reach_a_csv_cell(
    tmp_path: Path,
) -> None:
    """Names and memos are checked when the sheet is read; a provider's reference is not."""
    report, _, _ = valued(tmp_path)
    rows = [
        dataclasses.replace(r, provider_ref=r.provider_ref + "\u202e\r\nx\ty\u2028z\u200c")
        for r in report.rows
    ]
    report = dataclasses.replace(report, rows=rows)
    books = build_books(report, value_report(report, "EUR", None), account_map())
    for fmt in CSV_EXPORTS:
        text = render_export(fmt, books)
        assert "\u202e" not in text and "\t" not in text, fmt
        lines = text.split("\r\n")
        assert all("\n" not in line and "\r" not in line for line in lines), fmt
        assert " x y z\u200c" in text  # a joiner (Persian, emoji) is kept
    assert 'x y z\u200c"' in render_export("beancount", books)
    hledger = render_export("hledger", books)
    assert "x y z\u200c," in hledger and "\u202e" not in hledger
