"""XLSX bytes -> a grid of strings indexed by spreadsheet row number.

Number cells are turned into the shortest decimal text that round-trips the stored double,
which is the number the user typed; they never take part in float arithmetic.
"""

from __future__ import annotations

import datetime as dt
import io
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


def read_xlsx_rows(data: bytes, path: Path, sheet_name: str | None) -> pd.DataFrame:
    import openpyxl

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
            numbers.append(number)
            rows.append([cell_text(v) for v in values])
    finally:
        workbook.close()
    if not rows:
        raise SheetUnreadable(f"{path}: the sheet is empty")
    width = max(len(r) for r in rows)
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], index=numbers, dtype=str)
    return grid
