"""An XLSX cell means what the person saw in Excel: every row Excel shows (whatever the
declared dimension says), numbers at Excel's 15 significant digits, number formats that
show another number refused, hidden content named, and any layout read in bounded memory."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest

from batchpay.errors import SheetUnreadable
from batchpay.ingest import read_sheet
from batchpay.validate import validate_sheet
from tests.conftest import TRON

HEADER = ["reference", "amount", "currency", "network", "address"]


def _row(i: int, amount: object = 10) -> list[object]:
    return [f"E-{i}", amount, "USDT", "TRON", TRON[i % len(TRON)]]


def _save(wb: openpyxl.Workbook, path: Path) -> Path:
    wb.save(path)
    return path


def _patch(path: Path, edit: dict[str, str], member: str = "xl/worksheets/sheet1.xml") -> None:
    """Rewrite one part of the workbook, as a hand-edited or foreign-written file would be."""
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == member:
                text = data.decode()
                for pattern, replacement in edit.items():
                    text, count = re.subn(pattern, replacement, text)
                    assert count, pattern
                data = text.encode()
            target.writestr(info, data)
    path.write_bytes(out.getvalue())


# -- 11.2a: the declared dimension is never trusted ----------------------------------------


def test_a_lying_dimension_drops_no_row(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    for i in range(9):
        wb.active.append(_row(i, 10 + i))
    path = _save(wb, tmp_path / "lying.xlsx")
    _patch(path, {r'<dimension ref="[^"]*"': '<dimension ref="A1:G3"'})
    assert openpyxl.load_workbook(path, read_only=True).active.max_row == 3  # the lie
    sheet = read_sheet(path)
    assert list(sheet.frame.index) == list(range(2, 11))
    result = validate_sheet(sheet, "sandbox")
    assert result.ok and [r.reference for r in result.rows] == [f"E-{i}" for i in range(9)]


def test_a_dimension_starting_at_b_keeps_columns_in_place(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(_row(0))
    path = _save(wb, tmp_path / "shifted.xlsx")
    _patch(path, {r'<dimension ref="[^"]*"': '<dimension ref="C2:D2"'})
    sheet = read_sheet(path)
    assert sheet.headers == HEADER and sheet.frame.loc[2].tolist()[:3] == ["E-0", "10", "USDT"]


# -- 12.4a: a number is what Excel shows at 15 significant digits --------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("3.3000000000000003", "3.3"),
        ("1912.1670000000001", "1912.167"),
        ("0.30000000000000004", "0.3"),
        ("1.0000000000000002", "1"),
        ("1E-05", "0.00001"),
        ("2.5E4", "25000"),
        ("12345678901234567", "12345678901234600"),
        ("0.1", "0.1"),
        ("12.3456789", "12.3456789"),
    ],
)
def test_numbers_are_read_at_excels_fifteen_digits(tmp_path: Path, stored: str, shown: str) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(_row(0, 7))
    path = _save(wb, tmp_path / "n.xlsx")
    _patch(path, {r'(<c r="B2"[^>]*>)<v>7</v>': rf"\1<v>{stored}</v>"})
    assert read_sheet(path).frame.loc[2, 1] == shown


def test_a_saved_formula_result_pays_what_excel_shows(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*HEADER, "price", "quantity"])
    ws.append([*_row(0, "=F2*G2"), 1.1, 3])
    ws.append([*_row(1, "=F3*G3"), 1912.167, 1])
    path = _save(wb, tmp_path / "formula.xlsx")
    # what Excel saves: the formula and its binary result as the shortest round-trip text
    _patch(
        path,
        {
            r"<f>F2\*G2</f><v\s*/?>(</v>)?": "<f>F2*G2</f><v>3.3000000000000003</v>",
            r"<f>F3\*G3</f><v\s*/?>(</v>)?": "<f>F3*G3</f><v>1912.1670000000001</v>",
        },
    )
    sheet = read_sheet(path)
    assert sheet.frame[1].tolist() == ["3.3", "1912.167"]
    result = validate_sheet(sheet, "sandbox")
    assert result.ok and [str(r.amount) for r in result.rows] == ["3.3", "1912.167"]


# -- 11.2b: a number format showing another number -----------------------------------------


def _formatted(tmp_path: Path, value: object, number_format: str) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(_row(0, value))
    wb.active.append(_row(1, 5))
    wb.active["B2"].number_format = number_format
    return _save(wb, tmp_path / "formatted.xlsx")


@pytest.mark.parametrize(
    ("value", "number_format", "read"),
    [
        (25000, "#,##0.00", "25000"),
        (2500, '"$"#,##0.00', "2500"),
        (2500.5, "[$€-407] #,##0.00;[Red]-#,##0.00", "2500.5"),
        (2500, "0.00E+00", "2500"),
        (7, "0", "7"),
        (7, "@", "7"),
        (2500, '_(* #,##0.00_);_(* (#,##0.00);_(* "-"??_);_(@_)', "2500"),
    ],
)
def test_a_format_that_only_decorates_reads_the_number(
    tmp_path: Path, value: object, number_format: str, read: str
) -> None:
    sheet = read_sheet(_formatted(tmp_path, value, number_format))
    assert sheet.frame.loc[2, 1] == read and sheet.problems == []


@pytest.mark.parametrize(
    ("value", "number_format", "shown"),
    [
        (25000, '"2,500.00"', "'2,500.00'"),  # text of its own over the stored number
        (25000, "#,##0.00,", "25.00"),  # scaled by a thousand
        (0.123, "0%", "12%"),  # a percent rounded for display
        (25000.123, "0.00", "25000.12"),  # rounded for display
        (1 / 3, "#,##0.00", "0.33"),
        (25000, ";;;", "nothing"),  # hidden value
        (2512.5, "0.0E+00", "2.5E+3"),
        (5.5, "# ?/?", "a fraction"),
        (5, "[>100]0;0", "a number chosen by the conditional format"),
    ],
)
def test_a_format_showing_another_number_is_refused_with_both(
    tmp_path: Path, value: object, number_format: str, shown: str
) -> None:
    result = validate_sheet(read_sheet(_formatted(tmp_path, value, number_format)), "sandbox")
    (problem,) = [p for p in result.problems if p.code == "cell.shown_differs"]
    assert (problem.row, problem.column, problem.severity) == (2, "amount", "error")
    assert f"shows {shown}" in problem.message and "B2" in problem.message
    stored = read_sheet(_formatted(tmp_path, value, number_format)).frame.loc[2, 1]
    assert f"holds {stored}" in problem.message and problem.value == stored
    assert not result.ok and [r.reference for r in result.rows] == ["E-1"]


@pytest.mark.parametrize(
    ("value", "number_format", "read"),
    [(0.1, "0%", "10%"), (0.125, "0.0%", "12.5%"), (0.5, "0.00%", "50%")],
)
def test_an_exact_percent_is_read_as_shown(
    tmp_path: Path, value: float, number_format: str, read: str
) -> None:
    sheet = read_sheet(_formatted(tmp_path, value, number_format))
    assert sheet.frame.loc[2, 1] == read and sheet.problems == []
    (problem,) = validate_sheet(sheet, "sandbox").problems  # never paid as 0.1 or as 10
    assert (problem.row, problem.column, problem.code) == (2, "amount", "amount.not_a_number")
    assert repr(read) in problem.message


def test_a_built_in_format_without_a_known_code_is_refused(tmp_path: Path) -> None:
    path = _formatted(tmp_path, 45000, "0.00%")  # built-in id 10, then made id 27
    _patch(path, {'numFmtId="10"': 'numFmtId="27"'}, member="xl/styles.xml")
    (problem,) = read_sheet(path).problems
    assert problem.code == "cell.shown_differs" and "a format batchpay does not know" in (
        problem.message
    )


def test_a_date_format_on_an_amount_is_read_as_the_date_shown(tmp_path: Path) -> None:
    result = validate_sheet(read_sheet(_formatted(tmp_path, 45000, "yyyy-mm-dd")), "sandbox")
    assert not result.ok
    (problem,) = [p for p in result.problems if p.row == 2]
    assert problem.column == "amount" and "2023-03-15" in problem.message


# -- 11.2b: hidden rows, columns and sheets ------------------------------------------------


def test_hidden_rows_and_columns_holding_data_are_named(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*HEADER, "note"])
    for i in range(5):
        ws.append([*_row(i, 10 + i), f"n{i}"])
    ws.row_dimensions[3].hidden = True
    ws.row_dimensions[5].hidden = True
    ws.column_dimensions["F"].hidden = True
    ws.column_dimensions["H"].hidden = True  # hidden but empty: nothing unseen
    path = _save(wb, tmp_path / "hidden.xlsx")
    sheet = read_sheet(path)
    assert list(sheet.frame.index) == [2, 3, 4, 5, 6]  # still read: the file holds them
    problems = {p.code: p for p in sheet.problems}
    assert set(problems) == {"sheet.hidden_rows", "sheet.hidden_columns"}
    rows, columns = problems["sheet.hidden_rows"], problems["sheet.hidden_columns"]
    assert "rows 3, 5 are hidden" in rows.message and rows.severity == "warning"
    assert "column F ('note') is hidden" in columns.message and columns.severity == "warning"


def test_a_zero_height_row_is_hidden_too(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(_row(0))
    wb.active.append(_row(1))
    path = _save(wb, tmp_path / "flat.xlsx")
    _patch(path, {r'<row r="3"': '<row r="3" ht="0" customHeight="1"'})
    (problem,) = read_sheet(path).problems
    assert problem.code == "sheet.hidden_rows" and "row 3 is hidden" in problem.message


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_first_sheet_is_never_read_unnamed(tmp_path: Path, state: str) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Old"
    wb.active.append(HEADER)
    wb.active.append(_row(0, 999))
    wb.active.sheet_state = state
    shown = wb.create_sheet("November")
    shown.append(HEADER)
    shown.append(_row(1, 5))
    wb.active = 1
    path = _save(wb, tmp_path / "two.xlsx")
    with pytest.raises(SheetUnreadable, match=r"first sheet 'Old' is hidden.*'November'"):
        read_sheet(path)
    named = read_sheet(path, "Old")
    assert named.frame.loc[2, 1] == "999"
    (problem,) = named.problems
    assert problem.code == "sheet.hidden" and problem.severity == "warning"
    assert read_sheet(path, "November").problems == []


# -- 11.4: bounded memory ------------------------------------------------------------------


def _far_cells(path: Path, wide: bool) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "reference", "amount"
    if wide:
        ws["XFD1"] = "x"
    ws["A200000"], ws["B200000"] = "E-1", 5
    wb.save(path)
    return path


_UNDER_A_CAP = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from pathlib import Path
from batchpay.errors import SheetUnreadable
from batchpay.ingest import read_sheet
try:
    sheet = read_sheet(Path(sys.argv[1]))
except SheetUnreadable as exc:
    print("refused:", exc)
else:
    print("read:", list(sheet.frame.index), sheet.frame.loc[200000].tolist())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
@pytest.mark.parametrize(
    ("wide", "outcome"),
    [
        (True, "refused: .* row 1 has a value in column 16384; .*"),
        (False, r"read: \[200000\] \['E-1', '5'\]"),
    ],
)
def test_far_away_cells_are_read_in_bounded_memory(
    tmp_path: Path, wide: bool, outcome: str
) -> None:
    path = _far_cells(tmp_path / "far.xlsx", wide)
    assert path.stat().st_size < 10_000
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_UNDER_A_CAP), str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert re.fullmatch(outcome, done.stdout.strip()), done.stdout


@pytest.mark.parametrize("chunk", [3, 7, 64, 1 << 20])
def test_the_formula_scan_reads_a_part_in_pieces(tmp_path: Path, chunk: int) -> None:
    from batchpay.ingest.xlsxfile import _has_formula

    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.active.append(_row(0))
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    wb.active.append(_row(1, "=B2*2"))
    formula = tmp_path / "formula.xlsx"
    wb.save(formula)
    member = "xl/worksheets/sheet1.xml"
    assert not _has_formula(plain.read_bytes(), member, chunk)
    assert _has_formula(formula.read_bytes(), member, chunk)


def test_a_grid_too_large_for_memory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batchpay.ingest import xlsxfile

    monkeypatch.setattr(xlsxfile, "MAX_CELLS", 20)
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    for i in range(5):
        wb.active.append(_row(i, 10 + i))
    path = _save(wb, tmp_path / "wide.xlsx")
    with pytest.raises(SheetUnreadable, match="5 rows of 5 columns is over 20 cells"):
        read_sheet(path)


def test_many_hidden_rows_are_counted_not_all_listed(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    for i in range(15):
        wb.active.append(_row(i, 10 + i))
        wb.active.row_dimensions[i + 2].hidden = True
    (problem,) = read_sheet(_save(wb, tmp_path / "filtered.xlsx")).problems
    assert "rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 5 more are hidden" in problem.message
    assert problem.row == 2
