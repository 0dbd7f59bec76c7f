"""Issue 17: ``[accounts]`` per provider, network and currency, ``reporting_currency`` and the
rates file (strict: a bad line is exit 2), and ``report --format`` with the exports."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from batchpay import api
from batchpay.accounts import AccountMap, ledger_name
from batchpay.cli import main
from batchpay.config import Settings, load_settings
from batchpay.errors import ConfigError
from batchpay.report.exports import EXPORT_FILES
from batchpay.report.exports.rates import load_rates
from tests.test_startup import HEAVY, loaded, paid_batch, probe

__all__ = ["paid_batch"]  # a fixture, shared with tests/test_startup.py

TOML = """
reporting_currency = "eur"
rates = "RATES"
[accounts]
expense = "Payroll expense"
fees = { name = "Payout fees", code = "6150" }
tax_rate = "No VAT"
[accounts.USDT]
provider = { name = "USDT wallet", code = "1210" }
[accounts.trc20.USDT]
provider = "TRON USDT wallet"
[accounts.oxapay.TRON.USDT]
provider = { name = "OxaPay TRON USDT", code = "1211" }
[accounts.oxapay]
fees = "OxaPay fees"
"""


def _settings(tmp_path: Path, text: str) -> Settings:
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,rate\n2026-11-01,USDT,0.92\n", encoding="utf-8")
    text = text.replace("RATES", rates.as_posix())
    (tmp_path / "batchpay.toml").write_text(text, encoding="utf-8")
    return load_settings(environ={}, cwd=tmp_path)


def test_accounts_are_looked_up_from_the_most_specific_table(tmp_path: Path) -> None:
    settings = _settings(tmp_path, TOML)
    assert settings.reporting_currency == "EUR" and settings.rates == tmp_path / "rates.csv"
    assert settings.accounts == {"expense": "Payroll expense", "fees": "Payout fees"}
    found = settings.account_map
    assert found.tax_rate == "No VAT"
    look = found.lookup
    assert look("provider", "oxapay", "TRON", "USDT").code == "1211"  # provider.network.currency
    assert look("provider", "thedex", "TRON", "USDT").name == "TRON USDT wallet"  # network.currency
    assert look("provider", "thedex", "BSC", "USDT").code == "1210"  # currency
    assert look("provider", "thedex", "BSC", "USDC").name == "Provider balance (thedex)"  # default
    assert look("fees", "oxapay", "BSC", "USDC").name == "OxaPay fees"  # provider
    assert look("fees", "thedex", "BSC", "USDC").code_or_name == "6150"  # top of [accounts]
    assert look("rounding", "thedex", "BSC", "USDC").name == "Payout rounding"  # built in
    assert look("provider", "pontis", "", "USDT").code == "1210"  # no network: currency


def test_ledger_names_are_valid_beancount_accounts() -> None:
    assert ledger_name("provider", "Provider balance (oxapay)") == "Assets:Provider-balance-oxapay"
    assert ledger_name("expense", "6100 Payroll") == "Expenses:6100-Payroll"
    # letters of any script are kept (beancount reads them), never turned into dashes
    assert ledger_name("expense", "Gehälter & Löhne") == "Expenses:Gehälter-Löhne"
    assert ledger_name("fees", "frais_bancaires") == "Expenses:Frais-bancaires"
    assert ledger_name("expense", "給与") == "Expenses:X給与"
    assert ledger_name("expense", "ßalary") == "Expenses:SSalary"
    assert ledger_name("fees", "Expenses:Crypto fees") == "Expenses:Crypto-fees"
    assert ledger_name("provider", "Liabilities") == "Liabilities:Provider"
    assert AccountMap().lookup("expense", "p", "n", "c").ledger_name == "Expenses:Payroll-expense"


def test_table_names_that_are_currencies_fiat_codes_and_placeholders_are_kept(
    tmp_path: Path,
) -> None:
    text = '[accounts.eur]\nfees = "Fees {currency} {network} {provider}"\n'
    text += '[accounts.eth]\nfees = "E"'
    accounts = _settings(tmp_path, text + "\n").account_map
    assert accounts.lookup("fees", "pontis", "", "EUR").name == "Fees EUR  pontis"
    assert accounts.lookup("fees", "oxapay", "ETHEREUM", "ETH").name == "E"


def test_a_table_named_eth_is_the_currency_not_the_ethereum_network(tmp_path: Path) -> None:
    """ETH, BTC, TRX ... are network aliases too: [accounts.ETH] was taken for the Ethereum
    network, so USDT paid on Ethereum was credited to the "ETH wallet"."""
    text = '[accounts.ETH]\nprovider = "ETH wallet"\n[accounts.USDT]\nprovider = "USDT wallet"\n'
    text += '[accounts.ETH.USDC]\nprovider = "USDC on Ethereum"\n'
    text += '[accounts.TRON]\nfees = "Tron fees"\n'
    accounts = _settings(tmp_path, text).account_map
    assert accounts.lookup("provider", "oxapay", "ETHEREUM", "ETH").name == "ETH wallet"
    assert accounts.lookup("provider", "oxapay", "ARBITRUM", "ETH").name == "ETH wallet"
    assert accounts.lookup("provider", "oxapay", "ETHEREUM", "USDT").name == "USDT wallet"
    assert accounts.lookup("provider", "oxapay", "ETHEREUM", "USDC").name == "USDC on Ethereum"
    assert accounts.lookup("provider", "oxapay", "BSC", "USDC").name == "Provider balance (oxapay)"
    assert accounts.lookup("fees", "oxapay", "TRON", "USDT").name == "Tron fees"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[accounts]\ncash = "x"', "[accounts] has no 'cash'; it takes expense, fees, provider"),
        ("[accounts]\nexpense = 5", "accounts.expense = 5 is not allowed"),
        ('[accounts]\nfees = { colour = "x" }', "accounts.fees"),
        ('[accounts.oxapay.thedex]\nfees = "x"', "names two providers"),
        # a misspelt provider, network or currency is never taken for a currency of that name
        ('[accounts.oxpay]\nfees = "x"', "[accounts.oxpay] is not a provider (oxapay, thedex,"),
        ('[accounts.oxapay.TRONN]\nfees = "x"', "[accounts.TRONN] is not a provider"),
        ('[accounts.USDTT]\nfees = "x"', "a currency batchpay knows; check its spelling"),
        ('[accounts]\nprovider = "Wallet {provder}"', "{provder} is not filled in by batchpay"),
        ('[accounts.USDT]\nfees = { name = "{Currency} fees" }', "{Currency} is not filled in"),
        ('[accounts]\nexpense = ""', "accounts.expense = '' is not allowed"),
        ('[accounts]\nexpense = { name = "", code = " " }', "is not allowed"),
        ('[accounts.USDT]\ntax_rate = "x"', "[accounts] has no 'tax_rate'"),
        ('rates = "r.csv"', "set reporting_currency too"),
        ('reporting_currency = "€"', "reporting_currency = '€' is not allowed"),
        ('reporting_currency = "EUR"\nrates = "nowhere.csv"', "cannot read the rates file"),
    ],
)
def test_bad_books_settings_are_config_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        _settings(tmp_path, text + "\n")
    assert expected in str(error.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("day,currency,rate\n", "line 1 must be the header date,currency,rate"),
        ("date,currency,rate\n2026-11-1,USDT,0.9\n", ":2: date '2026-11-1' is not a day"),
        # Python reads an ISO week date too; kept, it would never match a completion day
        ("date,currency,rate\n2026-W44-7,USDT,0.9\n", ":2: date '2026-W44-7' is not a day"),
        ("date,currency,rate\n2026-11-01T00,USDT,0.9\n", "is not a day as YYYY-MM-DD"),
        ("date,currency,rate\n2026-11-01,usdt,0.9\n", ":2: currency 'usdt' is not a code"),
        ("date,currency,rate\n2026-11-01,USDT,0,92\n", ":2: expected 3 cells"),
        ("date,currency,rate\n2026-11-01,USDT,1e3\n", ":2: rate '1e3' is not a plain positive"),
        ("date,currency,rate\n2026-11-01,USDT,0\n", ":2: rate '0' is not a plain positive"),
        (
            "date,currency,rate\n2026-11-01,USDT,0.9\n\n2026-11-01,USDT,0.91\n",
            ":4: a second, different rate for USDT on 2026-11-01",
        ),
    ],
)
def test_the_rates_file_is_parsed_strictly(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_rates(path)
    assert expected in str(error.value)


def test_a_rate_for_the_reporting_currency_itself_may_only_be_1(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate\n2026-11-01,EUR,0.95\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rates.csv:2: EUR is the reporting currency; its rate"):
        load_rates(path, "EUR")
    assert load_rates(path, "USD").rates == {("2026-11-01", "EUR"): Decimal("0.95")}
    path.write_text("date,currency,rate\n2026-11-01,EUR,1.000\n", encoding="utf-8")
    found = load_rates(path, "EUR").find("2026-11-01", "EUR", "EUR")
    assert found is not None and (found.rate, found.source) == (Decimal(1), "same currency")
    path.write_text("date,currency,rate\n2026-11-01,EUR,2\n", encoding="utf-8")
    toml = f'reporting_currency = "eur"\nrates = "{path.as_posix()}"\n'
    (tmp_path / "batchpay.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match="EUR is the reporting currency"):  # at settings load
        load_settings(environ={}, cwd=tmp_path)


def test_a_good_rates_file_with_a_bom_and_a_repeated_line(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(
        "\ufeffDate, Currency ,Rate\n2026-11-01,USDT,0.9215\n2026-11-01,USDT,0.9215\n",
        encoding="utf-8",
    )
    table = load_rates(path)
    found = table.find("2026-11-01", "USDT", "EUR")
    assert found is not None and str(found.rate) == "0.9215"
    assert found.source == "rates.csv 2026-11-01"
    assert table.find("2026-11-02", "USDT", "EUR") is None  # never the nearest day
    same = table.find("2026-11-02", "EUR", "EUR")
    assert same is not None and same.source == "same currency"


def test_report_writes_the_exports_it_is_asked_for(
    paid_batch: Path, settings: Settings, write_sheet: Callable[..., Path]
) -> None:
    files = api.report("b1", settings=settings, formats=("qbo", "beancount", "hledger"))
    assert [p.name for p in files] == [
        EXPORT_FILES["qbo"],
        EXPORT_FILES["beancount"],
        EXPORT_FILES["hledger"],
    ]
    assert files[0].read_bytes().startswith(b"\xef\xbb\xbfJournal No,Journal Date,")


def test_report_exports_load_no_pandas_and_a_bad_rates_file_exits_2(paid_batch: Path) -> None:
    args = ("report", "--batch", "b1", "--ledger", "ledger.sqlite", "--report-dir", "books")
    formats = "qbo,xero,netsuite,beancount,hledger"
    exited, modules, shown = probe(*args, "--format", formats, cwd=paid_batch)
    assert exited == 0, shown
    assert loaded(modules, HEAVY) == []
    assert sorted(p.name for p in (paid_batch / "books").iterdir()) == sorted(EXPORT_FILES.values())
    (paid_batch / "batchpay.toml").write_text('reporting_currency = "EUR"\nrates = "r.csv"\n')
    (paid_batch / "r.csv").write_text("date,currency,rate\n2026-13-01,USDT,1\n")
    result = CliRunner().invoke(main, [*args, "--format", "qbo"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "r.csv:2: date '2026-13-01' is not a day" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_format_is_a_usage_error_naming_the_exports(paid_batch: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["report", "--batch", "b1", "--ledger", "ledger.sqlite", "--format", "quickbooks"],
        catch_exceptions=False,
    )
    assert result.exit_code == 2
    assert "qbo, xero, netsuite, beancount, hledger" in result.output


def test_a_format_named_twice_or_in_capitals_is_written_once(paid_batch: Path) -> None:
    args = ["report", "--batch", "b1", "--ledger", "ledger.sqlite", "--report-dir", "out"]
    result = CliRunner().invoke(
        main, [*args, "--format", "qbo, QBO ,Hledger,qbo"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        str(Path("out") / EXPORT_FILES["qbo"]),
        str(Path("out") / EXPORT_FILES["hledger"]),
    ]
