"""Stage 1, ingest: a CSV or XLSX file becomes a table of exact strings.

Every cell stays text (no float, no NA guessing, leading zeros kept) and every row keeps the
number a spreadsheet program shows, so problems can point at the cell the user sees.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from batchpay.errors import SheetUnreadable
from batchpay.ingest.sheet import Sheet as Sheet  # re-exported: the stage hands it on
from batchpay.problems import Problem, Severity

MAX_FILE_BYTES = 200 * 1024 * 1024


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

        grid, encoding = read_csv_rows(data, path)
        sheet = _to_sheet(path, hashlib.sha256(data).hexdigest(), grid)
        if encoding == "cp1252":
            sheet.problems.append(
                Problem(
                    "sheet.encoding",
                    "the file is not UTF-8; it was read as Windows-1252. Check "
                    "names and descriptions, or save it as 'CSV UTF-8'",
                    severity=Severity.WARNING,
                )
            )
        return sheet
    if suffix == ".xlsx":
        from batchpay.ingest.xlsxfile import read_xlsx_rows

        read = read_xlsx_rows(data, path, sheet_name)
        sheet = _to_sheet(path, hashlib.sha256(data).hexdigest(), read.grid)
        from batchpay.ingest.unseen import unseen_problems

        sheet.problems.extend(unseen_problems(sheet, read))
        return sheet
    raise SheetUnreadable(f"{path}: expected a .csv or .xlsx file")


HEADER_SEARCH_ROWS = 30


def _find_header(grid: pd.DataFrame, content_rows: pd.Index) -> int:
    """The first top row with at least two filled cells and at least half as many as the
    widest top row: title rows above it are skipped, and a data row wider than the header
    is still caught as an error rather than taken for the header."""
    top = grid.loc[content_rows[:HEADER_SEARCH_ROWS]]
    filled = (top != "").sum(axis=1)
    widest = int(filled.max())
    for number, count in filled.items():
        if count >= 2 and count * 2 >= widest:
            return int(number)
    return int(content_rows[0])


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
