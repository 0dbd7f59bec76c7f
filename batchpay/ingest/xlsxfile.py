"""XLSX bytes -> a grid of strings indexed by spreadsheet row number.

Number cells are read as Excel shows them: 15 significant digits, under a number format that
shows the same number (see :mod:`batchpay.ingest.numfmt`); they never take part in float
arithmetic. The sheet XML is read cell by cell, keeping only cells that hold something: its
declared ``<dimension>`` is never trusted, and a lone cell far away costs nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from batchpay.errors import SheetUnreadable
from batchpay.ingest import limits
from batchpay.ingest.numfmt import (
    differs,
    excel_number,
    padded_text,
    percent_text,
    plain,
    text_differs,
)


def typed_value_text(value: Any) -> str:
    """The text of a cell stored as a typed value (not a string): TRUE/FALSE, a number in
    plain digits, a date or time in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):  # float-ok: the cell's stored double, read once
        return plain(excel_number(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


MAX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for members over a megabyte
MAX_MEMBERS = 10_000
MAX_COLUMNS = limits.MAX_COLUMNS
MAX_CELLS = 30_000_000  # rows x columns of the grid built from the rows that hold something


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


def _has_formula(data: bytes, member: str, chunk: int = 1 << 20) -> bool:
    """A formula tag anywhere in the part, read a megabyte at a time."""
    tail = b""
    with zipfile.ZipFile(io.BytesIO(data)).open(member) as stream:
        while block := stream.read(chunk):
            if _FORMULA.search(tail + block):
                return True
            tail = block[-16:]
    return False


def uncached_formulas(data: bytes, member: str) -> list[str]:
    """Cell references (e.g. "B7") holding a formula with no saved value."""
    from defusedxml.ElementTree import iterparse

    found: list[str] = []
    if not _has_formula(data, member):
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


@dataclass
class XlsxRead:
    """The grid, and what a person looking at the sheet in Excel would not have seen."""

    grid: pd.DataFrame
    formulas: list[str]  # cells holding a formula with no saved value
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # (cell, shown, stored)
    hidden_rows: list[int] = field(default_factory=list)  # holding something
    hidden_columns: list[int] = field(default_factory=list)  # 1-based, holding something
    hidden_sheet: str | None = None  # the sheet read, when Excel hides it


def read_xlsx_rows(data: bytes, path: Path, sheet_name: str | None) -> XlsxRead:
    import openpyxl

    check_archive(data, path)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise SheetUnreadable(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        worksheet = _pick_sheet(workbook, path, sheet_name)
        with workbook._archive.open(worksheet._worksheet_path) as source:
            # the strings Excel shares between cells: read by openpyxl into the read-only
            # worksheet (the workbook's own list is the one it writes, empty here)
            read = _read_cells(workbook, worksheet._shared_strings, source, path)
        member = worksheet._worksheet_path
        if worksheet.sheet_state != "visible":
            read.hidden_sheet = worksheet.title
    except (KeyError, ValueError, TypeError, IndexError, SyntaxError) as exc:
        raise SheetUnreadable(f"{path}: not a readable XLSX workbook ({exc})") from None
    finally:
        workbook.close()
    read.formulas = uncached_formulas(data, member)
    return read


def _pick_sheet(workbook: Any, path: Path, sheet_name: str | None) -> Any:
    """The named sheet, or the first; a hidden first sheet is not read without its name,
    since the person opening the file in Excel never sees it."""
    if sheet_name is not None:
        if sheet_name not in workbook.sheetnames:
            names = ", ".join(workbook.sheetnames)
            raise SheetUnreadable(f"{path}: no sheet named {sheet_name!r} (sheets: {names})")
        return workbook[sheet_name]
    if not workbook.worksheets:
        raise SheetUnreadable(f"{path}: the workbook has no worksheet")
    first = workbook.worksheets[0]
    if first.sheet_state != "visible":
        shown = [ws.title for ws in workbook.worksheets if ws.sheet_state == "visible"]
        raise SheetUnreadable(
            f"{path}: the first sheet {first.title!r} is hidden in Excel, so the person "
            f"checking the file never saw it; name the sheet to pay with --sheet "
            f"(visible sheets: {', '.join(repr(s) for s in shown) or 'none'})"
        )
    opens_on = workbook.active
    if opens_on is not None and opens_on is not first:
        raise SheetUnreadable(
            f"{path}: the workbook opens on sheet {opens_on.title!r}, not on the first sheet "
            f"{first.title!r}, so the person checking the file may never have seen the "
            f"first one; name the sheet to pay with --sheet"
        )
    return first


UNKNOWN = "\x00unknown"  # a built-in format id openpyxl has no code for (Asian dates...)


class _Cells:
    """Cell values to text, one number-format decision per style."""

    def __init__(self, workbook: Any) -> None:
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        self._styles = workbook._cell_styles
        self._custom = workbook._number_formats
        self._builtin = BUILTIN_FORMATS
        self._codes: dict[int, str | None] = {0: None}
        self.refused: list[tuple[str, str, str]] = []

    def _code(self, style_id: int) -> str | None:
        if style_id not in self._codes:
            number_format = self._styles[style_id].numFmtId if style_id < len(self._styles) else 0
            code = (
                self._builtin.get(number_format, UNKNOWN)  # ids Excel fills in by locale
                if number_format < 164
                else self._custom[number_format - 164]
            )
            keep = code.strip().lower() not in ("general", "@", "")
            self._codes[style_id] = code if keep else None
        return self._codes[style_id]

    def text(self, cell: dict[str, Any]) -> str:
        value = cell["value"]
        if isinstance(value, str) and cell["data_type"] in ("s", "str"):
            code = self._code(cell["style_id"] or 0)
            shown = text_differs(value, code) if code not in (None, UNKNOWN) else None
            if shown is not None:  # ;;; hides it, or the format writes text around it
                self.refused.append((self._ref(cell), shown, repr(value)))
            return value
        if cell["data_type"] != "n" or isinstance(value, bool):
            return typed_value_text(value)
        number = excel_number(value)
        code = self._code(cell["style_id"] or 0)
        if code is not None:
            shown = differs(number, code) if code != UNKNOWN else "a format batchpay does not know"
            if shown is not None:
                percent = percent_text(number, code) if code != UNKNOWN else None
                if percent is not None:
                    return percent  # exactly what the person sees, as text
                self.refused.append((self._ref(cell), shown, plain(number)))
            elif code != UNKNOWN:
                padded = padded_text(number, code)
                if padded is not None:
                    return padded  # 001234 as shown: a memo or reference keeps its zeros
        return plain(number)

    @staticmethod
    def _ref(cell: dict[str, Any]) -> str:
        from openpyxl.utils.cell import get_column_letter

        return f"{get_column_letter(cell['column'])}{cell['row']}"


def _hidden_row(attrs: dict[str, str] | None, hidden_by_default: bool) -> bool:
    """Hidden, or zero high: by its own height, or by the sheet's default height (the
    ``zeroHeight`` flag hides every row not given a height of its own)."""
    attrs = attrs or {}
    height = attrs.get("ht")
    if height is None:
        return hidden_by_default or attrs.get("hidden") in ("1", "true")
    flat = float(height) == 0  # float-ok: a row height in points
    return attrs.get("hidden") in ("1", "true") or flat


def _rows_hidden_by_default(parser: Any) -> bool:
    sheet_format = getattr(parser, "sheet_format", None)
    if sheet_format is None:
        return False
    height = sheet_format.defaultRowHeight
    return bool(sheet_format.zeroHeight) or (height is not None and float(height) == 0)  # float-ok


def _read_cells(workbook: Any, strings: list[str], source: Any, path: Path) -> XlsxRead:
    from openpyxl.worksheet._reader import WorkSheetParser

    parser = WorkSheetParser(
        source,
        strings,
        data_only=True,
        epoch=workbook.epoch,
        date_formats=workbook._date_formats,
        timedelta_formats=workbook._timedelta_formats,
    )
    cells = _Cells(workbook)
    rows: list[list[str]] = []
    numbers: list[int] = []
    hidden: list[int] = []
    width = 0
    for number, row in parser.parse():
        hidden_row = _hidden_row(
            parser.row_dimensions.pop(str(number), None), _rows_hidden_by_default(parser)
        )
        values = _row_values(row, number, cells, path)
        if not values:
            continue
        if len(rows) >= limits.MAX_ROWS:
            raise SheetUnreadable(f"{path}: more than {limits.MAX_ROWS} rows; split the sheet")
        width = max(width, len(values))
        if len(rows) * width > MAX_CELLS:
            raise SheetUnreadable(
                f"{path}: {len(rows)} rows of {width} columns is over {MAX_CELLS} cells; refused"
            )
        if hidden_row:
            hidden.append(number)
        numbers.append(number)
        rows.append(values)
    if not rows:
        raise SheetUnreadable(f"{path}: the sheet is empty")
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], index=numbers, dtype=str)
    return XlsxRead(
        grid,
        [],
        refused=cells.refused,
        hidden_rows=hidden,
        hidden_columns=_hidden_columns(parser.column_dimensions, grid),
    )


def _row_values(row: Any, number: int, cells: _Cells, path: Path) -> list[str]:
    """A row's text, column by column (empty cells as ""), up to its last value."""
    values: list[str] = []
    for cell in row:
        if cell["value"] is None or cell["value"] == "":
            continue
        column = cell["column"]
        if column > MAX_COLUMNS:
            raise SheetUnreadable(
                f"{path}: row {number} has a value in column {column}; batchpay reads "
                f"at most {MAX_COLUMNS} columns. Delete the stray cell"
            )
        if column > len(values):
            values.extend([""] * (column - len(values)))
        values[column - 1] = cells.text(cell)
    return values


def _hidden_columns(dimensions: dict[str, dict[str, str]], grid: pd.DataFrame) -> list[int]:
    """1-based columns Excel hides (hidden, or zero width) that hold something."""
    found: list[int] = []
    for attrs in dimensions.values():
        width = attrs.get("width")
        narrow = width is not None and float(width) == 0  # float-ok: a width in characters
        if attrs.get("hidden") not in ("1", "true") and not narrow:
            continue
        last = min(int(attrs.get("max", attrs["min"])), grid.shape[1])
        for column in range(int(attrs["min"]), last + 1):
            if (grid[column - 1] != "").any():
                found.append(column)
    return sorted(set(found))
