"""Map the sheet's headers to canonical columns using ``schemas/aliases.toml``."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cache

from batchpay.problems import Problem, Severity
from batchpay.resources import load_schema_file
from batchpay.validate.identity import clean
from batchpay.validate.tables import load_tables

_SEPARATORS = re.compile(r"[\s_\-\u2010-\u2015,:;/]+")
_UNIT = re.compile(r"\s*[(\[{]\s*([A-Za-z0-9][A-Za-z0-9 _\-]{0,20}?)\s*[)\]}]\s*$")
_JOINERS = frozenset({"in"})  # "Amount in USDT"


def normalise(header: str) -> str:
    """Lower case, read as a person sees it (no invisible characters, NFKC), with runs of
    spaces and separators as one space."""
    return _SEPARATORS.sub(" ", clean(header.strip()).text.lower()).strip()


@cache
def alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, aliases in load_schema_file("aliases.toml").items():
        table[normalise(canonical)] = canonical
        for alias in aliases:
            table[normalise(alias)] = canonical
    return table


@dataclass
class HeaderMap:
    by_position: dict[int, str] = field(default_factory=dict)  # sheet column -> canonical name
    implied_currency: str | None = None  # from "Amount (USDT)", "Amount USDT", "USDT Amount"
    implied_network: str | None = None  # from "Amount (USDT-TRC20)"
    problems: list[Problem] = field(default_factory=list)

    @property
    def columns(self) -> set[str]:
        return set(self.by_position.values())


def map_headers(
    headers: list[str],
    known: set[str],
    prefix: str | None,
    header_row: int,
) -> HeaderMap:
    """Resolve each header; unknown ones are warnings, duplicates are errors."""
    result = HeaderMap()
    seen: dict[str, str] = {}
    aliases = alias_table()
    for position, raw in enumerate(headers):
        text = raw.strip()
        if not text:
            continue
        canonical, unit = _resolve_with_unit(text, aliases, known, prefix)
        if canonical is None:
            result.problems.append(
                Problem(
                    "column.unknown",
                    f"column {raw!r} is not used by batchpay and is ignored"
                    + _did_you_mean(text, aliases, known),
                    row=header_row,
                    column=raw,
                    severity=Severity.WARNING,
                )
            )
            continue
        if canonical in seen:
            result.problems.append(
                Problem(
                    "column.duplicate",
                    f"columns {seen[canonical]!r} and {raw!r} both mean {canonical!r}",
                    row=header_row,
                    column=raw,
                )
            )
            continue
        seen[canonical] = raw
        result.by_position[position] = canonical
        if canonical == "amount" and unit:
            pair = load_tables().split_pair(unit)
            if pair is not None:
                result.implied_currency, result.implied_network = pair
            else:
                result.implied_currency = unit.upper()
    return result


def _resolve_with_unit(
    text: str, aliases: dict[str, str], known: set[str], prefix: str | None
) -> tuple[str | None, str | None]:
    """The column a header names, and the currency it carries: "Amount (USDT)",
    "Amount [USDT]", "Amount USDT", "Amount - USDT", "Amount in USDT", "USDT Amount"."""
    bracket = _UNIT.search(text)
    if bracket:
        unit = bracket.group(1)
        if re.fullmatch(r"[A-Za-z0-9]{2,10}", unit) or load_tables().split_pair(unit):
            return _resolve(_UNIT.sub("", text), aliases, known, prefix), unit
    canonical = _resolve(text, aliases, known, prefix)
    if canonical is not None:
        return canonical, None
    words = normalise(text).split(" ")
    tables = load_tables()
    for unit, rest in ((words[-1], words[:-1]), (words[0], words[1:])):
        if rest and rest[-1] in _JOINERS:
            rest = rest[:-1]
        currency = unit.upper()
        is_unit = tables.known_currency(currency) or tables.split_pair(currency) is not None
        if rest and is_unit and _resolve(" ".join(rest), aliases, known, prefix) == "amount":
            return "amount", currency
    return None, None


def _resolve(text: str, aliases: dict[str, str], known: set[str], prefix: str | None) -> str | None:
    if prefix and text.lower().startswith(prefix):
        field_name = text[len(prefix) :].strip()
        return prefix + field_name if field_name else None
    canonical = aliases.get(normalise(text))
    if canonical is None:
        candidate = normalise(text).replace(" ", "_")
        canonical = candidate if candidate in known else None
    return canonical if canonical in known else None


def _did_you_mean(text: str, aliases: dict[str, str], known: set[str]) -> str:
    """The header a misspelt one was probably meant to be ("Wallet Adress")."""
    spellings = [a for a, canonical in aliases.items() if canonical in known]
    close = difflib.get_close_matches(normalise(text), spellings, n=1, cutoff=0.8)
    if not close:
        return ""
    return f"; did you mean {close[0]!r} (the {aliases[close[0]]} column)?"
