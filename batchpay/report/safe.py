"""Cells that a spreadsheet program can never evaluate as formulas (OWASP CSV injection)."""

from __future__ import annotations

import re
from decimal import Decimal

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def safe_text(value: str) -> str:
    """Prefix a quote to text a spreadsheet would read as a formula; plain numbers pass."""
    if value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return safe_text(str(value))
