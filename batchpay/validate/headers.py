"""Map the sheet's headers to canonical columns using ``schemas/aliases.toml``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from batchpay.problems import Problem, Severity
from batchpay.resources import load_schema_file

_SEPARATORS = re.compile(r"[\s_\-]+")
_UNIT = re.compile(r"\s*\(([A-Za-z0-9]{2,10})\)\s*$")


def normalise(header: str) -> str:
    return _SEPARATORS.sub(" ", header.strip().lower()).strip()


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
    implied_currency: str | None = None  # from "Amount (USDT)" when there is no currency column
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
        unit = _UNIT.search(text)
        base = _UNIT.sub("", text) if unit else text
        canonical = _resolve(base, aliases, known, prefix)
        if canonical is None:
            result.problems.append(
                Problem(
                    "column.unknown",
                    f"column {raw!r} is not used by batchpay and is ignored",
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
            result.implied_currency = unit.group(1).upper()
    return result


def _resolve(text: str, aliases: dict[str, str], known: set[str], prefix: str | None) -> str | None:
    if prefix and text.lower().startswith(prefix):
        field_name = text[len(prefix) :].strip()
        return prefix + field_name if field_name else None
    canonical = aliases.get(normalise(text))
    if canonical is None:
        candidate = normalise(text).replace(" ", "_")
        canonical = candidate if candidate in known else None
    return canonical if canonical in known else None
