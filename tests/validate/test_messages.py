"""Messages name the cause and the fix (issue 12, 5d): headers such as "Amount USDT", the other
row of a duplicate reference, the locale an amount fits, a currency and network written as one
token, and the report formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from batchpay import api
from batchpay.cli import main
from batchpay.config import Settings
from batchpay.errors import UsageError
from batchpay.ingest import read_sheet
from batchpay.validate import SheetOptions, Validated, validate_sheet
from batchpay.validate.tables import load_tables
from tests.conftest import TRON


def _check(tmp_path: Path, text: str, options: SheetOptions | None = None) -> Validated:
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    return validate_sheet(read_sheet(path), "sandbox", options=options)


def _message(result: Validated, code: str) -> str:
    return next(p.message for p in result.problems if p.code == code)


@pytest.mark.parametrize(
    "header",
    [
        "Amount (USDT)",
        "Amount USDT",
        "Amount - USDT",
        "Amount – USDT",
        "amount_usdt",
        "USDT Amount",
        "Amount in USDT",
        '"Amount, USDT"',
        "Amount: USDT",
        "Amount [USDT]",
        "Amount/USDT",
        "Salary USDT",
        "Net Pay (usdt)",
    ],
)
def test_an_amount_header_with_its_currency_in_any_common_form(tmp_path: Path, header: str) -> None:
    result = _check(tmp_path, f"reference,{header},network,address\nA,10,TRON,{TRON[0]}\n")
    assert result.ok, result.problems
    assert [(r.currency, str(r.amount)) for r in result.rows] == [("USDT", "10")]


@pytest.mark.parametrize("header", ["Amount Paid", "ID USDT", "Amount (per month)"])
def test_headers_that_are_not_an_amount_in_a_currency(tmp_path: Path, header: str) -> None:
    result = _check(tmp_path, f"reference,{header},currency,network,address\nA,10,USDT,TRON,x\n")
    assert "column.unknown" in {p.code for p in result.problems}


def test_a_duplicate_reference_names_the_reference_and_the_other_rows(tmp_path: Path) -> None:
    text = "reference,amount,currency,network,address\n" + "".join(
        f"{ref},{i + 1},USDT,TRON,{TRON[i % 4]}\n"
        for i, ref in enumerate(["E-1", "E-2", "E-1", "E-1"])
    )
    result = _check(tmp_path, text)
    messages = {p.row: p.message for p in result.problems if p.code == "reference.duplicate"}
    assert set(messages) == {2, 4, 5}
    assert "reference 'E-1' appears more than once" in messages[2]
    assert "also on rows 4, 5" in messages[2] and "also on rows 2, 5" in messages[4]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ('"1.234,50"', "with --locale de_DE (or es_ES, it_IT, nl_NL, pt_BR) it reads 1234.50"),
        ('"1,234.50"', "with --locale en_US (or en_GB) it reads 1234.50"),
        ('"1234,5"', "with --locale de_DE (or es_ES, it_IT, nl_NL, pt_BR, fr_FR, ru_RU) it "),
        ("1'234.50", "with --locale de_CH it reads 1234.50"),
        ('"1 234,50"', "with --locale fr_FR (or ru_RU) it reads 1234.50"),
        ("$1234.50", "remove the currency symbol or code: the amount is '1234.50'"),
        ("1500 USDT", "remove the currency symbol or code: the amount is '1500'"),
        ('"1.234,50 €"', "remove the currency symbol or code: the amount is '1.234,50'"),
    ],
)
def test_an_amount_that_fits_a_locale_suggests_it(
    tmp_path: Path, amount: str, expected: str
) -> None:
    text = f"reference,amount,currency,network,address\nA,{amount},USDT,TRON,{TRON[0]}\n"
    message = next(p.message for p in _check(tmp_path, text).problems if p.column == "amount")
    assert expected in message, message


def test_an_ambiguous_amount_shows_every_reading(tmp_path: Path) -> None:
    text = f'reference,amount,currency,network,address\nA,"1,234",USDT,TRON,{TRON[0]}\n'
    message = next(p.message for p in _check(tmp_path, text).problems if p.column == "amount")
    assert "with --locale en_US (or en_GB) it reads 1234;" in message
    assert (
        "with --locale de_DE (or es_ES, it_IT, nl_NL, pt_BR, fr_FR, ru_RU) it reads 1.234"
        in message
    )


def test_an_amount_in_another_locale_than_the_declared_one(tmp_path: Path) -> None:
    text = f'reference,amount,currency,network,address\nA,"1,234.50",USDT,TRON,{TRON[0]}\n'
    result = _check(tmp_path, text, SheetOptions(locale="de_DE"))
    assert "with --locale en_US (or en_GB) it reads 1234.50" in _message(
        result, "amount.locale_format"
    )


@pytest.mark.parametrize(
    ("token", "pair"),
    [
        ("USDT-TRC20", ("USDT", "TRON")),
        ("USDT_TRON", ("USDT", "TRON")),
        ("USDTTRC20", ("USDT", "TRON")),
        ("usdt trc20", ("USDT", "TRON")),
        ("USDT-ERC20", ("USDT", "ETHEREUM")),
        ("ERC20_USDT", ("USDT", "ETHEREUM")),
        ("USDT(BEP20)", ("USDT", "BSC")),
        ("USDC-SOL", ("USDC", "SOLANA")),
    ],
)
def test_a_combined_currency_and_network_token(token: str, pair: tuple[str, str]) -> None:
    assert load_tables().split_pair(token) == pair


def test_a_combined_token_in_the_currency_or_network_column_suggests_both(tmp_path: Path) -> None:
    text = (
        "reference,amount,currency,network,address\n"
        f"A,10,USDT-TRC20,TRON,{TRON[0]}\n"
        f"B,11,USDT,USDT_TRON,{TRON[1]}\n"
    )
    result = _check(tmp_path, text)
    fix = "write USDT in the currency column and TRON in the network column"
    assert fix in _message(result, "currency.unknown")
    assert fix in _message(result, "network.unknown")
    assert load_tables().split_pair("BTC") is None and load_tables().split_pair("USDT") is None


def test_an_unknown_report_format_lists_the_valid_ones(settings: Settings) -> None:
    with pytest.raises(UsageError) as error:
        api.report("b", settings=settings, formats=("pdf",))
    assert "unknown report format(s): pdf; valid formats: html, csv" in str(error.value)
    result = CliRunner().invoke(main, ["report", "--batch", "b", "--format", "pdf"])
    assert result.exit_code == 2 and "valid formats: html" in result.output


def test_typos_in_codes_and_headers_get_a_did_you_mean(tmp_path: Path) -> None:
    text = (
        "reference,amount,currency,network,Wallet Adress,address\n"
        f"A,10,USTD,TRON,x,{TRON[0]}\n"
        f"B,11,USDT,ETHERIUM,x,{TRON[1]}\n"
    )
    result = _check(tmp_path, text)
    assert _message(result, "currency.unknown").endswith("did you mean USDT?")
    assert _message(result, "network.unknown").endswith("did you mean ETHEREUM?")
    assert "did you mean 'wallet address' (the address column)?" in _message(
        result, "column.unknown"
    )


@pytest.mark.parametrize("written", ["TRC-20", "trc 20", "Tron_Network", "ERC-20", "BEP_20"])
def test_separators_are_not_part_of_a_network_name(written: str) -> None:
    assert load_tables().canonical_network(written) in ("TRON", "ETHEREUM", "BSC")
