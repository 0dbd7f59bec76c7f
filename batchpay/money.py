"""Money is Decimal from cell to wire.

Amounts arrive as text and are parsed by one strict grammar; nothing is guessed. All arithmetic
on money runs in :data:`MONEY_CONTEXT`, which traps float mixing and any inexact sum, so a
rounding can only happen through :func:`apply_scale`, where it is recorded.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

# 60 significant digits holds 18-decimal tokens of any realistic size with room for sums.
MONEY_CONTEXT = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[
        decimal.FloatOperation,
        decimal.InvalidOperation,
        decimal.DivisionByZero,
        decimal.Overflow,
        decimal.Inexact,
    ],
)

ZERO = Decimal(0)

# An amount's digits are bounded so that every sum, difference and rounding of amounts fits
# MONEY_CONTEXT exactly: 20 + 30 digits, plus 7 for adding up a million rows, is under 60.
MAX_INTEGER_DIGITS = 20
MAX_DECIMALS = 30
PLAIN_AMOUNT = (
    rf"\+?0*(?:[0-9]{{1,{MAX_INTEGER_DIGITS}}}(?:\.[0-9]{{1,{MAX_DECIMALS}}})?"
    rf"|\.[0-9]{{1,{MAX_DECIMALS}}})"
)

_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+", re.ASCII)
_EXPONENT = re.compile(r"[0-9.]+[eE][+-]?[0-9]+", re.ASCII)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"[0-9]+,[0-9]+", re.ASCII)


class AmountError(ValueError):
    """Why a text is not an amount; ``code`` is the stable problem code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_amount(text: str, number_format: NumberFormat | None = None) -> Decimal:
    """Parse a positive plain decimal such as ``1234.50`` (or one written in a declared
    locale's format); raise :class:`AmountError` otherwise."""
    if number_format is not None:
        plain = number_format.plain(text)
        if plain is None and text.strip():
            raise AmountError(
                "amount.locale_format",
                f"{_short(text.strip())} is not a number as {number_format.name} writes one "
                f"(thousands {' or '.join(repr(g) for g in number_format.group)}, "
                f"decimal {number_format.decimal!r})",
            )
        text = plain or text
    s = text.strip()
    if not s:
        raise AmountError("amount.missing", "the amount is empty")
    sign = ""
    if s[0] in "+-":
        sign, s = s[0], s[1:]
    if not _PLAIN.fullmatch(s):
        raise _explain(text.strip())
    _check_digits(s, text.strip())
    value = Decimal(s)
    if sign == "-" or value == ZERO:
        raise AmountError("amount.not_positive", "the amount must be greater than zero")
    return value


_PROVIDER_AMOUNT = re.compile(
    rf"-?0*(?:[0-9]{{1,{MAX_INTEGER_DIGITS}}}(?:\.[0-9]{{1,{MAX_DECIMALS}}})?|\.[0-9]{{1,{MAX_DECIMALS}}})",
    re.ASCII,
)


def provider_amount(value: object) -> Decimal | None:
    """An amount or fee from a provider's answer (a JSON string, or a number parsed as
    Decimal), in the currency's major unit; None where the field is absent or empty.

    The same digit bounds as a sheet's amounts, so every later sum stays exact: anything
    else (NaN, Infinity, an exponent, 61 digits) raises ValueError, which the send stage
    reads as an answer it could not read (unknown), never as money."""
    if value is None or (isinstance(value, str) and not value):
        return None
    if isinstance(value, bool):  # JSON true is not an amount
        raise ValueError(f"the provider sent an amount batchpay cannot read: {value}")
    text = format(value, "f") if isinstance(value, Decimal) and value.is_finite() else str(value)
    text = text.strip()
    if not _PROVIDER_AMOUNT.fullmatch(text):
        raise ValueError(f"the provider sent an amount batchpay cannot read: {_short(text)}")
    return Decimal(text)


def _check_digits(plain: str, text: str) -> None:
    """Checked on the text, before a Decimal of a million digits is ever made."""
    whole, _, fraction = plain.partition(".")
    whole = whole.lstrip("0")
    if len(whole) > MAX_INTEGER_DIGITS:
        raise AmountError(
            "amount.too_many_digits",
            f"{_short(text)} has {len(whole)} digits before the decimal point; at most "
            f"{MAX_INTEGER_DIGITS} are accepted",
        )
    if len(fraction) > MAX_DECIMALS:
        raise AmountError(
            "amount.too_many_digits",
            f"{_short(text)} has {len(fraction)} decimal places; at most {MAX_DECIMALS} "
            "are accepted",
        )


def _short(text: str, limit: int = 40) -> str:
    """The text for a message: quoted, and cut when long."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """A declared locale's separators: thousands groups and the decimal mark."""

    name: str
    group: tuple[str, ...]
    decimal: str

    def plain(self, text: str) -> str | None:
        """``text`` rewritten as a plain amount, or None if it does not fit this format."""
        s = text.strip()
        sign = s[:1] if s[:1] in "+-" else ""
        body = s[len(sign) :]
        groups = "|".join(re.escape(g) for g in self.group)
        mark = re.escape(self.decimal)
        grouped = rf"[0-9]{{1,3}}(?:(?:{groups})[0-9]{{3}})+" if groups else r"(?!)"
        pattern = rf"(?:{grouped}|[0-9]+)(?:{mark}[0-9]+)?"
        if not re.fullmatch(pattern, body, re.ASCII):
            return None
        integer, _, fraction = body.partition(self.decimal)
        for g in self.group:
            integer = integer.replace(g, "")
        return sign + integer + ("." + fraction if fraction else "")


def _explain(s: str) -> AmountError:
    low = s.lower().lstrip("+-")
    if low in {"nan", "inf", "infinity", "snan"}:
        return AmountError("amount.not_a_number", f"{_short(s)} is not an amount")
    if _EXPONENT.fullmatch(low):
        return AmountError(
            "amount.exponent",
            f"{_short(s)} is in scientific notation; format the cell as a plain number",
        )
    if _GROUPED.fullmatch(low) or _DECIMAL_COMMA.fullmatch(low):
        return AmountError(
            "amount.ambiguous_separator",
            f"{_short(s)} uses a comma; write the amount with a dot as decimal point and no "
            "thousands separators",
        )
    if any(ch.isdigit() and not ch.isascii() for ch in s):
        return AmountError("amount.non_ascii_digits", f"{_short(s)} contains non-ASCII digits")
    return AmountError("amount.not_a_number", f"{_short(s)} is not a plain decimal amount")


def scale_of(value: Decimal) -> int:
    """Number of decimal places as written (``1.50`` has 2)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


class RoundingPolicy(StrEnum):
    DOWN = "down"  # never pay more than the sheet says (default)
    HALF_EVEN = "half_even"
    HALF_UP = "half_up"
    REJECT = "reject"  # too many decimals is a validation error


_ROUNDING = {
    RoundingPolicy.DOWN: decimal.ROUND_DOWN,
    RoundingPolicy.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    RoundingPolicy.HALF_UP: decimal.ROUND_HALF_UP,
}


@dataclass(frozen=True, slots=True)
class Scaled:
    amount: Decimal  # what will be sent
    delta: Decimal  # amount - requested; negative when rounded down, zero when untouched


class TooPrecise(ValueError):
    pass


def apply_scale(value: Decimal, places: int, policy: RoundingPolicy) -> Scaled:
    """Bring ``value`` to at most ``places`` decimals under ``policy``; the delta is exact."""
    if scale_of(value) <= places:
        return Scaled(value, ZERO)
    if policy is RoundingPolicy.REJECT:
        raise TooPrecise(f"has more than {places} decimal places")
    quantum = Decimal(1).scaleb(-places)
    ctx = MONEY_CONTEXT.copy()
    ctx.traps[decimal.Inexact] = False
    rounded = value.quantize(quantum, rounding=_ROUNDING[policy], context=ctx)
    return Scaled(rounded, MONEY_CONTEXT.subtract(rounded, value))


def total(values: Iterable[Decimal]) -> Decimal:
    """Exact sum; raises rather than round if it ever could not be exact."""
    result = ZERO
    for v in values:
        result = MONEY_CONTEXT.add(result, v)
    return result


def to_wire(value: Decimal) -> str:
    """Plain decimal text, never exponent notation (``Decimal('1E-7')`` -> ``'0.0000001'``)."""
    return format(value, "f")
