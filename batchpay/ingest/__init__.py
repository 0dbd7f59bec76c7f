"""Stage 1, ingest: a CSV or XLSX file becomes a table of exact strings.

Every cell stays text (no float, no NA guessing, leading zeros kept) and every row keeps the
number a spreadsheet program shows, so problems can point at the cell the user sees.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from batchpay.errors import SheetUnreadable

MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Sheet:
    """The file as read. ``frame`` is all ``str``; its index is the spreadsheet row number."""

    path: Path
    sha256: str
    headers: list[str]  # as written, in order
    header_row: int
    frame: pd.DataFrame

    @property
    def name(self) -> str:
        return self.path.name


def read_sheet(path: Path, sheet_name: str | None = None) -> Sheet:
    path = Path(path)
    if not path.is_file():
        raise SheetUnreadable(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SheetUnreadable(f"{path}: {size} bytes is over the {MAX_FILE_BYTES}-byte limit")
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from batchpay.ingest.csvfile import read_csv_rows

        grid = read_csv_rows(data, path)
    elif suffix == ".xlsx":
        from batchpay.ingest.xlsxfile import read_xlsx_rows

        grid = read_xlsx_rows(data, path, sheet_name)
    else:
        raise SheetUnreadable(f"{path}: expected a .csv or .xlsx file")
    return _to_sheet(path, hashlib.sha256(data).hexdigest(), grid)


HEADER_SEARCH_ROWS = 30


def _find_header(grid: pd.DataFrame, content_rows: pd.Index) -> int:
    """The first of the top rows with the most filled cells: title rows above it have fewer,
    and no data row can fill more cells than the header has columns."""
    top = grid.loc[content_rows[:HEADER_SEARCH_ROWS]]
    filled = (top != "").sum(axis=1)
    return int(filled.idxmax())


def _to_sheet(path: Path, sha256: str, grid: pd.DataFrame) -> Sheet:
    """Find the header (first non-blank row), keep data rows that have any content."""
    blank = (grid == "").all(axis=1)
    content_rows = grid.index[~blank]
    if len(content_rows) == 0:
        raise SheetUnreadable(f"{path}: the sheet is empty")
    header_row = _find_header(grid, content_rows)
    headers = [str(h) for h in grid.loc[header_row].tolist()]
    while headers and headers[-1].strip() == "":
        headers.pop()  # trailing empty header cells (ragged exports)
    body = grid.loc[(grid.index > header_row) & ~blank, grid.columns[: len(headers)]]
    extra = grid.loc[body.index, grid.columns[len(headers) :]]
    overflow = extra.index[(extra != "").any(axis=1)] if extra.shape[1] else []
    if len(overflow):
        raise SheetUnreadable(
            f"{path}: row {int(overflow[0])} has more cells than the header row {header_row}"
        )
    body = body.copy()
    body.columns = pd.RangeIndex(len(headers))
    return Sheet(path=path, sha256=sha256, headers=headers, header_row=header_row, frame=body)
