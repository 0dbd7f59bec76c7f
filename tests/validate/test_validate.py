from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from batchpay.ingest import read_sheet
from batchpay.money import RoundingPolicy
from batchpay.validate import Validated, validate_sheet
from tests.conftest import ETH, TRON


def _validate(
    tmp_path: Path,
    text: str,
    provider: str | None = "sandbox",
    policy: RoundingPolicy = RoundingPolicy.DOWN,
) -> Validated:
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    return validate_sheet(read_sheet(path), provider, policy)


def _codes(result: Validated) -> set[tuple[int | None, str, str]]:
    return {(p.row, p.column or "", p.code) for p in result.problems}


def test_every_problem_is_collected_in_one_pass(tmp_path: Path) -> None:
    text = (
        "reference,amount,currency,network,address,memo\n"
        f"A,10,USDT,TRON,{TRON[0]},\n"  # 2 ok
        f"A,1E+05,USDT,TRON,{TRON[1]},\n"  # 3 duplicate + exponent
        f",5,USDT,TRON,{TRON[2]},\n"  # 4 missing reference
        "C,1,USDT,TRON,0xabc,\n"  # 5 bad address for TRON
        f"D,0,ZZZ,MARS,{TRON[0]},\n"  # 6 zero, unknown currency, unknown network
        f"E,1,XRP,XRP,rG1QQv2nh2gr7RCZ1P8YYcBUKCCN633jCn,abc\n"  # 7 non-numeric tag
        "F,1,USDT,ETHEREUM,,\n"  # 8 missing address
    )
    result = _validate(tmp_path, text)
    assert _codes(result) == {
        (2, "reference", "reference.duplicate"),
        (3, "reference", "reference.duplicate"),
        (3, "amount", "amount.exponent"),
        (4, "reference", "reference.missing"),
        (5, "address", "address.invalid"),
        (6, "amount", "amount.not_positive"),
        (6, "currency", "currency.unknown"),
        (6, "network", "network.unknown"),
        (7, "memo", "memo.invalid"),
        (8, "address", "address.missing"),
    }
    assert not result.ok
    assert result.rows == []  # rows 2 and 3 share a reference: neither is payable
    bad = next(p for p in result.problems if p.code == "amount.exponent")
    assert bad.value == "1E+05" and "scientific" in bad.message


def test_aliases_case_and_implied_currency(tmp_path: Path) -> None:
    text = (
        "Employee ID, Wallet Address ,Amount (USDT),CHAIN,Full Name,Notes\n"
        f"00042,{TRON[0]},12.50,trc20,Ada,salary\n"
    )
    result = _validate(tmp_path, text)
    assert result.ok, result.problems
    (row,) = result.rows
    assert (row.reference, row.currency, row.network, row.name, row.description) == (
        "00042",
        "USDT",
        "TRON",
        "Ada",
        "salary",
    )
    assert row.amount == Decimal("12.50") and str(row.amount) == "12.50"


def test_missing_and_duplicate_columns_stop_before_rows(tmp_path: Path) -> None:
    text = "ref,reference,amount,currency,network,unused\nA,B,1,USDT,TRON,x\n"
    result = _validate(tmp_path, text)
    codes = {(p.code, p.column) for p in result.problems}
    assert ("column.duplicate", "reference") in codes
    assert ("column.missing", "address") in codes
    assert ("column.unknown", "unused") in codes
    missing = next(p for p in result.problems if p.code == "column.missing")
    assert "wallet address" in missing.message and missing.row == 1
    warning = next(p for p in result.problems if p.code == "column.unknown")
    assert warning.severity == "warning"


def test_rounding_is_recorded_per_network_scale(tmp_path: Path) -> None:
    text = (
        "reference,amount,currency,network,address\n"
        f"A,1.1234567,USDT,TRON,{TRON[0]}\n"
        f"B,1.123456789012345678,USDT,BSC,{ETH}\n"
        f"C,0.123456789,BTC,BITCOIN,bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4\n"
    )
    result = _validate(tmp_path, text)
    assert result.ok
    by_ref = {r.reference: r for r in result.rows}
    assert by_ref["A"].amount == Decimal("1.123456")
    assert by_ref["A"].rounding_delta == Decimal("-0.0000007")
    assert by_ref["B"].rounding_delta == 0  # USDT on BSC has 18 places
    assert by_ref["C"].amount == Decimal("0.12345678")
    assert [(r.reference, r.places) for r in result.roundings] == [("A", 6), ("C", 8)]


def test_reject_policy_turns_extra_places_into_errors(tmp_path: Path) -> None:
    text = f"reference,amount,currency,network,address\nA,1.1234567,USDT,TRON,{TRON[0]}\n"
    result = _validate(tmp_path, text, policy=RoundingPolicy.REJECT)
    assert _codes(result) == {(2, "amount", "amount.too_precise")}


def test_pontis_sheet_uses_fiat_columns_and_two_places(tmp_path: Path) -> None:
    text = (
        "reference,amount,currency,country_code,payout_currency,payment_method,"
        "recipient_name,recipient.account_number,recipient.ifsc\n"
        "P-1,125.005,usdt,in,INR,imps,Ravi Kumar,001234567890,HDFC0000001\n"
        "P-2,10,USDT,India,rupee,,,1,\n"
    )
    result = _validate(tmp_path, text, provider="pontis")
    assert result.kind == "fiat"
    assert _codes(result) == {
        (3, "country_code", "country_code.invalid"),
        (3, "payout_currency", "payout_currency.invalid"),
        (3, "payment_method", "payment_method.missing"),
        (3, "recipient_name", "recipient_name.missing"),
    }
    (row,) = result.rows
    assert row.amount == Decimal("125.00") and row.rounding_delta == Decimal("-0.005")
    assert row.extra["recipient.account_number"] == "001234567890"
    assert row.extra["country_code"] == "IN"


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1,234.50", "1_000", "-5"])
def test_amount_problems_point_at_the_cell(tmp_path: Path, text: str) -> None:
    sheet = f'reference,amount,currency,network,address\nA,"{text}",USDT,TRON,{TRON[0]}\n'
    (problem,) = _validate(tmp_path, sheet).problems
    assert (problem.row, problem.column, problem.value) == (2, "amount", text)
    assert problem.code.startswith("amount.")


def test_address_checksums_testnet_and_unchecked_case(tmp_path: Path) -> None:
    text = (
        "reference,amount,currency,network,address\n"
        "A,1,USDC,ETHEREUM,0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\n"  # one letter's case off
        "B,1,USDC,ETHEREUM,0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\n"  # all lower
        "C,1,BTC,BITCOIN,tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx\n"  # testnet
        "D,1,USDT,TRON,TFEkshkSXo8yMe8vcA6P77XmiLfstNWHyU\n"  # last character changed
    )
    result = _validate(tmp_path, text)
    codes = {(p.row, p.code, str(p.severity)) for p in result.problems}
    assert codes == {
        (2, "address.checksum", "error"),
        (3, "address.no_checksum", "warning"),
        (4, "address.testnet", "error"),
        (5, "address.invalid", "error"),
    }
    assert [r.reference for r in result.rows] == ["B"]  # a warning does not block the row
