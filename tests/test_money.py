from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchpay.money import (
    MONEY_CONTEXT,
    AmountError,
    RoundingPolicy,
    TooPrecise,
    apply_scale,
    parse_amount,
    provider_amount,
    scale_of,
    to_wire,
    total,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "1"),
        ("0.1", "0.1"),
        ("1234.50", "1234.50"),
        (" 7.25 ", "7.25"),
        (".5", "0.5"),
        ("+3", "3"),
        ("00012.3400", "12.3400"),
        ("0.000000000000000001", "1E-18"),
    ],
)
def test_plain_amounts_parse_exactly(text: str, expected: str) -> None:
    value = parse_amount(text)
    assert value == Decimal(expected)
    assert str(value) == str(Decimal(expected))  # the written scale is kept


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "amount.missing"),
        ("   ", "amount.missing"),
        ("NaN", "amount.not_a_number"),
        ("Infinity", "amount.not_a_number"),
        ("-inf", "amount.not_a_number"),
        ("1E+05", "amount.exponent"),
        ("1e5", "amount.exponent"),
        ("2.5E-3", "amount.exponent"),
        ("1,234.50", "amount.ambiguous_separator"),
        ("10,5", "amount.ambiguous_separator"),
        ("1_000", "amount.not_a_number"),
        ("١٢٣", "amount.non_ascii_digits"),
        ("-5", "amount.not_positive"),
        ("0", "amount.not_positive"),
        ("0.00", "amount.not_positive"),
        ("$5", "amount.not_a_number"),
        ("5 USDT", "amount.not_a_number"),
        ("1.", "amount.not_a_number"),
        ("1.2.3", "amount.not_a_number"),
        ("0x10", "amount.not_a_number"),
    ],
)
def test_bad_amounts_are_refused_with_a_stable_code(text: str, code: str) -> None:
    with pytest.raises(AmountError) as info:
        parse_amount(text)
    assert info.value.code == code


@given(
    st.decimals(
        min_value=Decimal("0.000000000000000001"),
        max_value=Decimal("1e15"),
        allow_nan=False,
        allow_infinity=False,
        places=18,
    )
)
def test_grammar_round_trips_any_positive_decimal(value: Decimal) -> None:
    assert parse_amount(to_wire(value)) == value
    assert "e" not in to_wire(value).lower()


@pytest.mark.parametrize(
    ("value", "places", "policy", "amount", "delta"),
    [
        ("1.2345679", 6, RoundingPolicy.DOWN, "1.234567", "-0.0000009"),
        ("1.2345679", 6, RoundingPolicy.HALF_EVEN, "1.234568", "0.0000001"),
        ("1.2345665", 6, RoundingPolicy.HALF_EVEN, "1.234566", "-0.0000005"),
        ("1.2345665", 6, RoundingPolicy.HALF_UP, "1.234567", "0.0000005"),
        ("1.50", 6, RoundingPolicy.DOWN, "1.50", "0"),
        ("0.1", 0, RoundingPolicy.DOWN, "0", "-0.1"),
    ],
)
def test_scale_rounds_by_policy_and_records_the_exact_delta(
    value: str, places: int, policy: RoundingPolicy, amount: str, delta: str
) -> None:
    scaled = apply_scale(Decimal(value), places, policy)
    assert scaled.amount == Decimal(amount)
    assert scaled.delta == Decimal(delta)
    assert scaled.amount - scaled.delta == Decimal(value)


def test_reject_policy_refuses_extra_places_but_accepts_enough() -> None:
    with pytest.raises(TooPrecise):
        apply_scale(Decimal("1.0000001"), 6, RoundingPolicy.REJECT)
    assert apply_scale(Decimal("1.000001"), 6, RoundingPolicy.REJECT).amount == Decimal("1.000001")


def test_scale_of_counts_written_places() -> None:
    assert scale_of(Decimal("1.50")) == 2
    assert scale_of(Decimal("100")) == 0


def test_total_is_exact_and_refuses_floats() -> None:
    assert total([Decimal("0.1")] * 10) == Decimal("1.0")
    with pytest.raises(TypeError):  # the money context refuses floats outright
        total([Decimal("1"), 0.1])  # type: ignore[list-item]


def test_to_wire_never_uses_exponents() -> None:
    assert to_wire(Decimal("1E-7")) == "0.0000001"
    assert to_wire(Decimal("1E+3")) == "1000"


# -- digits bounded, so no operation on amounts can ever be inexact ------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1" * 61, "61 digits before the decimal point"),
        ("1" * 21, "21 digits before the decimal point"),
        ("1" * 30 + "." + "1" * 31, "30 digits before the decimal point"),
        ("0." + "1" * 31, "31 decimal places"),
        ("1" * 5_000_000, "5000000 digits"),  # refused on the text, no Decimal made
    ],
)
def test_an_amount_with_too_many_digits_is_refused(text: str, why: str) -> None:
    with pytest.raises(AmountError, match=why) as caught:
        parse_amount(text)
    assert caught.value.code == "amount.too_many_digits"
    assert len(str(caught.value)) < 200  # the text is cut in the message


def test_the_largest_amounts_accepted_add_up_exactly() -> None:
    biggest = parse_amount("9" * 20 + "." + "9" * 30)
    assert parse_amount("000000" + "9" * 20) == Decimal("9" * 20)  # leading zeros are free
    # a million of the widest amounts, and every difference a rounding makes, stay exact
    assert total([biggest] * 1_100) == MONEY_CONTEXT.multiply(biggest, Decimal(1_100))
    assert total([biggest, parse_amount("0." + "0" * 29 + "1")]) > biggest
    assert apply_scale(biggest, 2, RoundingPolicy.HALF_UP).amount == Decimal("1" + "0" * 20)
    rows = Decimal(1_100_000)  # the row cap: the largest sum a sheet can reach
    huge = MONEY_CONTEXT.multiply(biggest, rows)
    assert total([huge, parse_amount("0." + "0" * 29 + "1")]) > huge


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.50", Decimal("12.50")),
        (Decimal("0.000001"), Decimal("0.000001")),
        (7, Decimal("7")),
        ("-1.5", Decimal("-1.5")),
        (None, None),
        ("", None),
    ],
)
def test_provider_amounts_are_read_exactly(value: object, expected: Decimal | None) -> None:
    assert provider_amount(value) == expected


@pytest.mark.parametrize(
    "value",
    ["NaN", "Infinity", "1e3", Decimal("1E+999"), "1" * 61, "0." + "1" * 31, "abc", True, "1,5"],
)
def test_a_provider_amount_batchpay_cannot_sum_exactly_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        provider_amount(value)
