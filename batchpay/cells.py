"""The formula-injection guard: text written to a report cell that a spreadsheet program can
never evaluate as a formula (OWASP CSV injection)."""

from __future__ import annotations

import re
from decimal import Decimal

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def formula_safe(value: str) -> str:
    """Prefix a quote to text a spreadsheet would read as a formula; plain numbers pass."""
    if value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_cell(value: object) -> str:
    """A value as a report's CSV cell: empty for None, a decimal in plain digits (never an
    exponent), any other text made formula-safe."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return formula_safe(str(value))
