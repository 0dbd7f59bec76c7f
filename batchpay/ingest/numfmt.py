"""What Excel shows for a number cell, and whether that is the number it stores.

A number cell is read as Excel shows it at its 15 significant digits (Excel keeps and shows
no more: ``=C2*D2`` saved as 3.3000000000000003 is 3.3 on screen). Its number format may then
change what the person sees:

- a format that only decorates the number (thousands separators, trailing zeros, a currency
  symbol, text around it) shows the same number, which is read;
- a format that shows a different number (rounding to fewer decimals, scaling by trailing
  commas, percent, fractions, scientific notation dropping digits, digits written by the
  format itself, or nothing at all as with ``;;;``) is refused: batchpay cannot know whether
  the person meant the stored or the shown number, so it reads neither and says both.

Date and time formats are turned into dates by openpyxl before this module sees the cell.
"""

from __future__ import annotations

import decimal
import functools
import re
from dataclasses import dataclass
from decimal import Decimal

SIGNIFICANT_DIGITS = 15  # what Excel keeps, shows and calculates with

_EXCEL = decimal.Context(prec=SIGNIFICANT_DIGITS, rounding=decimal.ROUND_HALF_EVEN)
_WIDE = decimal.Context(prec=400, rounding=decimal.ROUND_HALF_UP)  # exact for any double


def excel_number(value: int | float) -> Decimal:  # float-ok: the cell's stored double
    """The number Excel shows for a stored double or integer: 15 significant digits, in
    plain form, with no trailing zeros after the point (1912.1670000000001 -> 1912.167)."""
    # float-ok: the exact binary value, rounded once just below; from_float is the explicit
    # conversion, so decimal's FloatOperation trap (on in the money-path test) stays quiet
    exact = Decimal.from_float(value) if isinstance(value, float) else Decimal(value)
    if not exact.is_finite():
        raise ValueError(f"{value!r} is not a number")
    shown = _EXCEL.plus(exact)
    if shown == shown.to_integral_value():
        return shown.quantize(Decimal(1), context=_WIDE)
    return shown.normalize(_WIDE)


def plain(value: Decimal) -> str:
    return format(value, "f")


@dataclass(frozen=True, slots=True)
class Shown:
    """How a format section shows a number; ``None`` decimals means as many as it has."""

    decimals: int | None
    percent: int = 0  # each % multiplies by 100
    thousands: int = 0  # each trailing comma divides by 1000
    grouped: bool = False
    scientific: bool = False
    fraction: bool = False
    own_digits: bool = False  # the format writes digits of its own ("2,500.00" as text)
    shows_value: bool = True  # False when the section shows no number at all (;;;)
    condition: bool = False  # [>100] and the like: not followed, refused
    text: str = ""  # the format's own text, as shown


_LITERAL = re.compile(r'"[^"]*"|\\.|_.|\*.')
_BRACKET = re.compile(r"\[[^\]]*\]")
_CONDITION = re.compile(r"\[(?:[<>=]{1,2})[^\]]*\]")


def _sections(code: str) -> list[str]:
    """Split at ``;`` outside quotes and escapes."""
    parts, current, quoted, escaped = [], [], False, False
    for ch in code:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == '"':
            quoted = not quoted
            current.append(ch)
        elif ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


@functools.lru_cache(maxsize=512)
def parse_section(section: str) -> Shown:
    condition = bool(_CONDITION.search(section))
    literals = "".join(_LITERAL.findall(section))
    text = "".join(
        part.strip('"')[-1:] if part.startswith("\\") else part.strip('"')
        for part in _LITERAL.findall(section)
        if not part.startswith(("_", "*"))
    )
    body = _BRACKET.sub("", _LITERAL.sub("", section))
    own_digits = any(ch.isdigit() for ch in literals) or bool(re.search(r"[1-9]", body))
    if body.strip().lower() in ("general", "@", ""):
        return Shown(
            None,
            own_digits=own_digits,
            shows_value=body.strip() != "",
            condition=condition,
            text=text,
        )
    if "E+" in body.upper() or "E-" in body.upper():
        mantissa = body.upper().split("E")[0]
        decimals = mantissa.split(".")[1] if "." in mantissa else ""
        count = sum(ch in "0#?" for ch in decimals)
        return Shown(count, scientific=True, own_digits=own_digits, condition=condition, text=text)
    placeholders = [i for i, ch in enumerate(body) if ch in "0#?"]
    if not placeholders:
        return Shown(None, own_digits, shows_value=False, condition=condition, text=text)
    last = placeholders[-1]
    trailing = body[last + 1 :]
    thousands = len(trailing) - len(trailing.lstrip(","))
    number = body[placeholders[0] : last + 1]
    decimals = number.split(".")[1] if "." in number else ""
    return Shown(
        sum(ch in "0#?" for ch in decimals),
        percent=body.count("%"),
        thousands=thousands,
        grouped="," in number.split(".")[0],
        fraction="/" in body,
        own_digits=own_digits,
        condition=condition,
        text=text,
    )


def _section_for(code: str, value: Decimal) -> str:
    sections = _sections(code)
    if value < 0 and len(sections) > 1:
        return sections[1]
    if value == 0 and len(sections) > 2:
        return sections[2]
    return sections[0]


def shown_text(value: Decimal, shown: Shown) -> str:
    """Roughly what the cell shows, for messages: the number as displayed, without the
    format's own text."""
    if not shown.shows_value:
        return repr(shown.text) if shown.text else "nothing"
    number = abs(value).scaleb(2 * shown.percent - 3 * shown.thousands, _WIDE)
    if shown.scientific:
        places = shown.decimals or 0
        return f"{number:.{places}E}"
    if shown.decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-shown.decimals), context=_WIDE)
    text = f"{number:,f}" if shown.grouped else plain(number)
    text = ("-" if value < 0 else "") + text + "%" * shown.percent
    return f"{text} with the format's own text {shown.text!r}" if shown.own_digits else text


def differs(value: Decimal, code: str) -> str | None:
    """None when ``code`` shows ``value`` as the same number; else what the cell shows."""
    if code.strip().lower() in ("general", "@", ""):
        return None
    shown = parse_section(_section_for(code, value))
    if shown.condition:
        return f"a number chosen by the conditional format {code!r}"
    if shown.own_digits or not shown.shows_value:
        return shown_text(value, shown)
    if shown.fraction:
        return None if value == value.to_integral_value() else f"a fraction ({code!r})"
    same = (shown.percent == 0 and shown.thousands == 0) or value == 0
    if same and shown.decimals is not None:
        if shown.scientific:
            digits = len(value.normalize(_WIDE).as_tuple().digits)
            same = value == 0 or digits <= shown.decimals + 1
        else:
            quantum = Decimal(1).scaleb(-shown.decimals)
            same = value.quantize(quantum, context=_WIDE) == value
    return None if same else shown_text(value, shown)


def percent_text(value: Decimal, code: str) -> str | None:
    """``12.5%`` when ``code`` is a plain percent format showing ``value`` exactly: read as
    the person sees it (an amount column then refuses it; a rate column keeps it)."""
    shown = parse_section(_section_for(code, value))
    if (
        shown.percent == 0
        or shown.thousands
        or shown.scientific
        or shown.fraction
        or shown.own_digits
        or shown.condition
        or not shown.shows_value
        or shown.decimals is None
    ):
        return None
    number = value.scaleb(2 * shown.percent, _WIDE)
    if number.quantize(Decimal(1).scaleb(-shown.decimals), context=_WIDE) != number:
        return None
    return plain(number.normalize(_WIDE) if number else Decimal(0)) + "%" * shown.percent


_PADDING = re.compile(r"_.|\*.")


def text_differs(text: str, code: str) -> str | None:
    """None when ``code`` shows the text cell ``text`` as written; else what it shows. Text
    takes a format's fourth section (``;;;`` hides it), or a lone section holding ``@``."""
    sections = _sections(code)
    if len(sections) >= 4:
        section = sections[3]
    else:
        section = next((s for s in sections if "@" in _LITERAL.sub("", s)), "")
        if not section:
            return None  # no text section: Excel shows the text as it is
    body = _PADDING.sub("", _BRACKET.sub("", section))
    if body.strip() == "@" or body.strip().lower() == "general":
        return None
    if "@" not in _LITERAL.sub("", body):
        shown = parse_section(section).text
        return repr(shown) if shown else "nothing"
    parts = _LITERAL.split(body)
    literals = _LITERAL.findall(body)
    out = "".join(
        p.replace("@", text) + (_literal_text(lit) if i < len(literals) else "")
        for i, (p, lit) in enumerate(zip(parts, [*literals, ""], strict=True))
    )
    return repr(out)


def _literal_text(literal: str) -> str:
    if literal.startswith(("_", "*")):
        return ""
    return literal[1:] if literal.startswith("\\") else literal.strip('"')


def padded_text(value: Decimal, code: str) -> str | None:
    """``001234`` when ``code`` pads the whole number ``value`` with zeros (``000000``): the
    digits the person sees, which matter in a memo or a reference ("001234" is not "1234"
    as a text memo). None for any other format."""
    if code.strip().lower() in ("general", "@", "") or value < 0:
        return None
    if value != value.to_integral_value():
        return None
    section = _section_for(code, value)
    shown = parse_section(section)
    if (
        shown.decimals
        or shown.percent
        or shown.thousands
        or shown.grouped
        or shown.scientific
        or shown.fraction
        or shown.own_digits
        or shown.condition
        or not shown.shows_value
    ):
        return None
    body = _BRACKET.sub("", _LITERAL.sub("", section))
    width = body.split(".")[0].count("0")
    digits = plain(value.quantize(Decimal(1), context=_WIDE))
    return digits.zfill(width) if width > len(digits) else None
