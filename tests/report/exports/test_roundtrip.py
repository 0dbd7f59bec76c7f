"""Issue 17, proofs: the beancount export loads with beancount's own loader with no errors and
its balances match the report; the hledger export loads in ``hledger`` (Debian package
``hledger``) and balances to zero. Each skips only when its tool is absent AND the
environment variable CI is unset: in CI (CI=1) a missing tool is a failure."""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from batchpay.accounts import parse_accounts
from batchpay.config_tables import network_names
from batchpay.report.exports.formats import render_export
from batchpay.report.exports.journal import Books, build_books
from batchpay.report.model import Report
from tests.report.exports.books import valued


def _require(present: bool, what: str) -> None:
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing and CI is set: the round trip must run in CI")
    pytest.skip(f"{what} is not installed (in CI it must be)")


def _expected(report: Report, books: Books) -> dict[tuple[str, str], Decimal]:
    """(ledger account, currency) -> balance, from the journal model; the provider accounts'
    balances are checked against the report's completed rows below."""
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for journal in books.journals:
        for line in journal.lines:
            balances[(line.account.ledger_name, journal.currency)] += line.amount
    for currency in ("USDT", "USDC"):
        done = [r for r in report.rows if r.currency == currency and r.status == "completed"]
        paid = sum((r.amount_sent or Decimal(0) for r in done), Decimal(0))  # fee deducted
        provider = [v for (a, c), v in balances.items() if c == currency and a.startswith("Assets")]
        assert sum(provider) == -paid
    return dict(balances)


def test_beancount_loads_without_errors_and_balances_match_the_report(tmp_path: Path) -> None:
    _require(importlib.util.find_spec("beancount") is not None, "beancount (pip)")
    from beancount import loader
    from beancount.core import data

    report, valuation, books = valued(tmp_path)
    entries, errors, options = loader.load_string(render_export("beancount", books))
    assert errors == []
    assert options["operating_currency"] == ["EUR"]
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    values: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                assert posting.units is not None and posting.units.number is not None
                balances[(posting.account, posting.units.currency)] += posting.units.number
            for key in ("value_expense", "value_fees", "value_paid"):
                if entry.meta.get("journal") == "payroll-2026-11/USDT":
                    values[key] = Decimal(str(entry.meta[key]).split()[0])
    assert {k: v for k, v in balances.items() if v} == {
        k: v for k, v in _expected(report, books).items() if v
    }
    usdt = next(t for t in valuation.totals if t.currency == "USDT")
    assert values == {
        "value_expense": usdt.expense,
        "value_fees": usdt.fees,
        "value_paid": usdt.paid,
    }
    prices = [e for e in entries if isinstance(e, data.Price)]
    assert [(str(p.date), p.currency, p.amount.number) for p in prices] == [
        ("2026-11-01", "USDT", Decimal("0.9215")),
        ("2026-11-02", "USDT", Decimal("0.9302")),
    ]


def _hledger(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["hledger", "-f", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_hledger_loads_the_journal_and_it_balances_to_zero(tmp_path: Path) -> None:
    _require(shutil.which("hledger") is not None, "hledger (Debian package hledger)")
    report, _, books = valued(tmp_path)
    path = tmp_path / "journal.hledger"
    path.write_text(render_export("hledger", books), encoding="utf-8")
    done = _hledger(path, "bal", "-O", "csv", "--no-elide")
    assert done.returncode == 0, done.stderr
    lines = list(csv.reader(io.StringIO(done.stdout)))
    assert lines[0] == ["account", "balance"]
    assert lines[-1] == ["total", "0"]
    found: dict[tuple[str, str], Decimal] = {}
    for account, cell in lines[1:-1]:
        for amount in cell.split(", "):
            number, currency = amount.split()
            found[(account, currency)] = Decimal(number)
    expected = {k: v for k, v in _expected(report, books).items() if v}
    assert {k: v for k, v in found.items() if v} == expected
    strict = _hledger(path, "check", "--strict")  # every account and commodity declared
    assert strict.returncode == 0, strict.stderr


def test_hledger_would_refuse_a_journal_that_does_not_balance(tmp_path: Path) -> None:
    """The round trip above proves something: an unbalanced transaction is an error."""
    _require(shutil.which("hledger") is not None, "hledger (Debian package hledger)")
    _, _, books = valued(tmp_path)
    path = tmp_path / "broken.hledger"
    text = render_export("hledger", books).replace("-100.00 USDT", "-100.01 USDT", 1)
    path.write_text(text, encoding="utf-8")
    assert _hledger(path, "bal").returncode != 0


def test_a_missing_tool_skips_outside_ci_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        _require(False, "hledger")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="missing and CI is set"):
        _require(False, "hledger")
    _require(True, "hledger")  # present: runs, whatever CI says


ODD_ACCOUNTS = {
    "expense": "6100 Gehälter & Löhne",
    "fees": {"name": "frais_bancaires: 給与", "code": "6150"},
    "rounding": "Équité",
    "provider": "assets:crypto:{provider} {currency}/{network}",
}


def test_account_names_of_any_script_and_digits_load_in_beancount_and_hledger(
    tmp_path: Path,
) -> None:
    """Names from batchpay.toml in any script, starting with digits or lower case, with
    underscores and punctuation, make accounts that both tools accept."""
    report, valuation, _ = valued(tmp_path)
    accounts = parse_accounts(ODD_ACCOUNTS, "test", ["sandbox"], network_names())[1]
    books = build_books(report, valuation, accounts)
    names = {a.ledger_name for a in books.accounts}
    assert "Expenses:6100-Gehälter-Löhne" in names and "Expenses:Équité" in names
    assert "Expenses:Frais-bancaires:X給与" in names
    assert "Assets:Crypto:Sandbox-USDT-TRON" in names
    _require(importlib.util.find_spec("beancount") is not None, "beancount (pip)")
    from beancount import loader

    _, errors, _ = loader.load_string(render_export("beancount", books))
    assert errors == []
    _require(shutil.which("hledger") is not None, "hledger (Debian package hledger)")
    path = tmp_path / "odd.hledger"
    path.write_text(render_export("hledger", books), encoding="utf-8")
    done = _hledger(path, "bal", "-O", "csv")
    assert done.returncode == 0, done.stderr
    assert list(csv.reader(io.StringIO(done.stdout)))[-1] == ["total", "0"]


def test_two_batches_beancount_files_included_in_a_ledger_that_opens_their_accounts(
    tmp_path: Path,
) -> None:
    """README: ``include`` it in your ledger. With open directives in the export, a second
    batch's file (or a ledger opening the accounts itself) gave "Duplicate open directive"."""
    _require(importlib.util.find_spec("beancount") is not None, "beancount (pip)")
    from beancount import loader

    _, _, books = valued(tmp_path / "one")
    text = render_export("beancount", books)
    (tmp_path / "one.beancount").write_text(text, encoding="utf-8")
    second = text.replace("payroll-2026-11", "payroll-2026-12")
    (tmp_path / "two.beancount").write_text(second, encoding="utf-8")
    opens = [line[3:] for line in text.splitlines() if " open " in line]
    assert opens and all(
        line.startswith(";; 2026-11-01 open ") for line in text.splitlines() if " open " in line
    )
    main = tmp_path / "main.beancount"
    main.write_text(
        "\n".join(['option "operating_currency" "EUR"', *opens])
        + '\ninclude "one.beancount"\ninclude "two.beancount"\n',
        encoding="utf-8",
    )
    entries, errors, _ = loader.load_file(str(main))
    assert errors == []
    assert sum(1 for e in entries if type(e).__name__ == "Transaction") == 4


def test_a_batch_with_no_completed_row_gives_files_both_tools_load(tmp_path: Path) -> None:
    books = Books("b-0", "sandbox", True, "EUR", "rates.csv", "Tax Exempt", [])
    for fmt in ("qbo", "xero", "netsuite"):
        assert render_export(fmt, books).count("\r\n") == 1  # the header only
    _require(importlib.util.find_spec("beancount") is not None, "beancount (pip)")
    from beancount import loader

    entries, errors, _ = loader.load_string(render_export("beancount", books))
    assert errors == [] and entries == []
    _require(shutil.which("hledger") is not None, "hledger (Debian package hledger)")
    path = tmp_path / "empty.hledger"
    path.write_text(render_export("hledger", books), encoding="utf-8")
    done = _hledger(path, "bal", "-O", "csv")
    assert done.returncode == 0, done.stderr
    assert list(csv.reader(io.StringIO(done.stdout)))[-1] == ["total", "0"]
