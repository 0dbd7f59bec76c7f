"""Problems about cells whose content the person checking the sheet in Excel did not see as
batchpay reads it: formulas without a saved value, numbers shown as another number, and
hidden rows, columns and sheets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from batchpay.problems import Problem, Severity

if TYPE_CHECKING:
    from batchpay.ingest.sheet import Sheet
    from batchpay.ingest.xlsxfile import XlsxRead

LISTED = 10  # rows or columns named in one message


def unseen_problems(sheet: Sheet, read: XlsxRead) -> Iterator[Problem]:
    for ref in read.formulas:
        yield _cell_problem(
            sheet,
            ref,
            "cell.formula_without_value",
            f"cell {ref} holds a formula with no saved value; open the file in Excel "
            "and save it, or paste the values",
        )
    for ref, shown, stored in read.refused:
        yield _cell_problem(
            sheet,
            ref,
            "cell.shown_differs",
            f"cell {ref} shows {shown} but holds {stored}; batchpay does not guess which "
            "one is meant. Format the cell so it shows its whole value (General or "
            "Number with enough decimals), or store the number it shows (=ROUND(...))",
            value=stored,
        )
    if read.hidden_sheet is not None:
        yield Problem(
            "sheet.hidden",
            f"sheet {read.hidden_sheet!r} is hidden in Excel; its rows will be paid. "
            "Unhide it to check it",
            severity=Severity.WARNING,
        )
    if read.hidden_rows:
        yield Problem(
            "sheet.hidden_rows",
            f"{_listed('row', [str(r) for r in read.hidden_rows])} hidden in Excel (or "
            "filtered out) and will be read like the others; unhide them to check them",
            row=read.hidden_rows[0],
            severity=Severity.WARNING,
        )
    if read.hidden_columns:
        names = [_column_name(sheet, c) for c in read.hidden_columns]
        yield Problem(
            "sheet.hidden_columns",
            f"{_listed('column', names)} hidden in Excel and will be read like the "
            "others; unhide them to check them",
            row=sheet.header_row,
            column=_header(sheet, read.hidden_columns[0]),
            severity=Severity.WARNING,
        )


def _listed(noun: str, items: list[str]) -> str:
    more = f" and {len(items) - LISTED} more" if len(items) > LISTED else ""
    verb = "is" if len(items) == 1 else "are"
    plural = noun if len(items) == 1 else noun + "s"
    return f"{plural} {', '.join(items[:LISTED])}{more} {verb}"


def _header(sheet: Sheet, column: int) -> str | None:
    index = column - 1
    return sheet.headers[index] if index < len(sheet.headers) else None


def _column_name(sheet: Sheet, column: int) -> str:
    from openpyxl.utils.cell import get_column_letter

    header = _header(sheet, column)
    letter = get_column_letter(column)
    return f"{letter} ({header!r})" if header else letter


def _cell_problem(
    sheet: Sheet, ref: str, code: str, message: str, value: str | None = None
) -> Problem:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    letters, row = coordinate_from_string(ref)
    column = _header(sheet, column_index_from_string(letters)) or letters
    return Problem(code, message, row=row, column=column, value=value)
