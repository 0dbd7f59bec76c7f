"""XLSX bytes -> a grid of strings indexed by spreadsheet row number.

Number cells are turned into the shortest decimal text that round-trips the stored double,
which is the number the user typed; they never take part in float arithmetic.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from batchpay.errors import SheetUnreadable


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # float-ok: the cell's stored double, converted once to text
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


MAX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for members over a megabyte
MAX_MEMBERS = 10_000
MAX_ROWS = 1_100_000


def check_archive(data: bytes, path: Path) -> None:
    """Refuse zip bombs before any XML is read."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as exc:
        raise SheetUnreadable(f"{path}: not a readable XLSX workbook ({exc})") from None
    if len(members) > MAX_MEMBERS:
        raise SheetUnreadable(f"{path}: {len(members)} parts in the archive; refused")
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise SheetUnreadable(
            f"{path}: unpacks to {total} bytes, over the {MAX_UNCOMPRESSED}-byte limit; refused"
        )
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            ratio = m.file_size // max(m.compress_size, 1)
            raise SheetUnreadable(
                f"{path}: part {m.filename} expands {ratio} times; this "
                "looks like a zip bomb and is refused"
            )


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def uncached_formulas(data: bytes, member: str) -> list[str]:
    """Cell references (e.g. "B7") holding a formula with no saved value."""
    from defusedxml.ElementTree import iterparse

    found: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)).open(member) as stream:
        if not _FORMULA.search(stream.read()):
            return found  # the usual sheet holds no formula: skip the second XML pass
    with zipfile.ZipFile(io.BytesIO(data)).open(member) as stream:
        for _, element in iterparse(stream):
            if element.tag.endswith("}c"):
                formula = next((c for c in element if c.tag.endswith("}f")), None)
                value = next((c for c in element if c.tag.endswith("}v")), None)
                if formula is not None and (value is None or not (value.text or "").strip()):
                    found.append(element.get("r", "?"))
                element.clear()
    return found


def read_xlsx_rows(
    data: bytes, path: Path, sheet_name: str | None
) -> tuple[pd.DataFrame, list[str]]:
    """The grid, and the cells holding formulas without a saved value."""
    import openpyxl

    check_archive(data, path)

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SheetUnreadable(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        if sheet_name is None:
            worksheet = workbook.worksheets[0]
        elif sheet_name in workbook.sheetnames:
            worksheet = workbook[sheet_name]
        else:
            names = ", ".join(workbook.sheetnames)
            raise SheetUnreadable(f"{path}: no sheet named {sheet_name!r} (sheets: {names})")
        first = worksheet.min_row or 1
        rows: list[list[str]] = []
        numbers: list[int] = []
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=first):
            if len(rows) >= MAX_ROWS:
                raise SheetUnreadable(f"{path}: more than {MAX_ROWS} rows; split the sheet")
            numbers.append(number)
            rows.append([cell_text(v) for v in values])
        member = getattr(worksheet, "_worksheet_path", None)
    finally:
        workbook.close()
    if not rows:
        raise SheetUnreadable(f"{path}: the sheet is empty")
    width = max(len(r) for r in rows)
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], index=numbers, dtype=str)
    return grid, uncached_formulas(data, member) if member else []
