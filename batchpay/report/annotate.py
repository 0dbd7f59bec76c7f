"""An annotated copy of the sheet: every problem's cell filled (red: error, yellow: warning)
with the problem in a cell comment, rows at the numbers the user sees, so the user fixes the
sheet in Excel and uploads it again.

A report on the sheet, not a stage of checking it: like the rest of the report stage it loads
no pandas or openpyxl until a copy is written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchpay.problems import Problem

if TYPE_CHECKING:
    from batchpay.ingest import Sheet
    from batchpay.validate import Validated

ERROR_COLOUR = "F8CBAD"  # red: an error
WARNING_COLOUR = "FFE699"  # yellow: a warning
EXCEL_CELL_CHARS = 32_767  # the most text an Excel cell (or comment) holds


def _shown(text: str) -> str:
    """Text an XLSX file can hold: control characters XML 1.0 cannot carry are written as
    visible escapes (\\x0b), and text past Excel's cell limit is cut, with a mark."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if len(text) > EXCEL_CELL_CHARS:
        text = text[: EXCEL_CELL_CHARS - 40] + f"... ({len(text)} characters in the sheet)"
    return text


def write_annotated(sheet: Sheet, result: Validated, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Checked"
    for index, header in enumerate(sheet.headers, start=1):
        cell = _text(ws, sheet.header_row, index, header)
        cell.font = Font(bold=True)
    for number, values in zip(sheet.frame.index, sheet.frame.itertuples(index=False), strict=True):
        for index, value in enumerate(values, start=1):
            if value != "":
                _text(ws, int(number), index, str(value))
    notes: dict[tuple[int, int], list[Problem]] = {}
    for problem in result.problems:
        where = (problem.row or sheet.header_row, _column_of(problem, sheet, result))
        notes.setdefault(where, []).append(problem)
    for (row, column), problems in notes.items():
        cell = ws.cell(row=row, column=column)
        errors = any(p.severity == "error" for p in problems)
        cell.fill = PatternFill("solid", fgColor=ERROR_COLOUR if errors else WARNING_COLOUR)
        text = _shown("\n".join(f"{p.severity}: {p.code}: {p.message}" for p in problems))
        cell.comment = Comment(text, "batchpay", width=320, height=40 + 30 * len(problems))
    ws.freeze_panes = ws.cell(row=sheet.header_row + 1, column=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _text(ws: Any, row: int, column: int, text: str) -> Any:
    """A text cell holding exactly the sheet's text: typed as a string, so Excel never
    evaluates it (``=1+1`` stays text) and no quote is added that a re-upload would keep
    (a memo ``-123`` stays ``-123``)."""
    cell = ws.cell(row=row, column=column)
    cell.value = _shown(text)
    cell.data_type = "s"
    return cell


def _column_of(problem: Problem, sheet: Sheet, result: Validated) -> int:
    """The sheet column a problem is about; the first column for row-wide problems."""
    if problem.column in result.columns:
        return result.columns[problem.column] + 1
    lowered = [h.strip().lower() for h in sheet.headers]
    if problem.column and problem.column.strip().lower() in lowered:
        return lowered.index(problem.column.strip().lower()) + 1
    return 1
