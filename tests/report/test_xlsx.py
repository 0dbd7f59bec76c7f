"""The streaming XLSX writer: what a spreadsheet program reads back is what was written."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl

from batchpay.report.xlsx import Cell, Sheet, write_workbook


def _book(tmp_path: Path, name: str = "b.xlsx") -> Path:
    path = tmp_path / name
    rows: list[list[Cell]] = [
        ["text", "count", "amount", "empty", "risky"],
        ["a & <b>", 7, Decimal("-0.0000007"), None, "'=SUM(A1)"],
        ["tab\there\x00\x1fbell\x07", 12345678901234, Decimal("1234567.123456"), None, "ü ñ 中"],
    ]
    write_workbook(
        path,
        [
            Sheet("Summary", [["batch x"], ["head"]], bold_rows=frozenset({2}), freeze_row=2),
            Sheet(
                "Rows",
                rows,
                bold_rows=frozenset({1}),
                widths=[10, 12, 14, 8, 20],
                freeze_row=1,
                filter_columns=5,
                filter_rows=3,
            ),
        ],
    )
    return path


def test_values_round_trip_with_their_types(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(_book(tmp_path))
    sheet = book["Rows"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:2] == ["a & <b>", 7]
    assert Decimal(str(values[1][2])) == Decimal("-0.0000007")
    assert values[1][3] is None and values[1][4] == "'=SUM(A1)"
    # characters XML cannot carry are dropped, everything else is kept
    assert values[2][0] == "tab\therebell" and values[2][4] == "ü ñ 中"
    assert values[2][1] == 12345678901234
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_layout_bold_header_frozen_panes_widths_filter(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(_book(tmp_path))
    assert book.sheetnames == ["Summary", "Rows"]
    rows = book["Rows"]
    assert [c.font.b for c in rows[1]] == [True] * 5
    assert not rows["A2"].font.b
    assert rows.freeze_panes == "A2" and book["Summary"].freeze_panes == "A3"
    assert rows.column_dimensions["E"].width == 20
    assert rows.auto_filter.ref == "A1:E3"
    assert book["Summary"]["A2"].font.b


def test_decimals_are_written_digit_for_digit(tmp_path: Path) -> None:
    with zipfile.ZipFile(_book(tmp_path)) as package:
        xml = package.read("xl/worksheets/sheet2.xml").decode()
    assert "<v>-0.0000007</v>" in xml and "<v>1234567.123456</v>" in xml


def test_same_content_same_bytes(tmp_path: Path) -> None:
    assert _book(tmp_path, "1.xlsx").read_bytes() == _book(tmp_path, "2.xlsx").read_bytes()


def test_columns_past_z_land_where_they_belong(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    write_workbook(path, [Sheet("Wide", [list(range(1, 54))], filter_columns=53)])
    sheet = openpyxl.load_workbook(path)["Wide"]
    assert [sheet[ref].value for ref in ("A1", "Z1", "AA1", "AZ1", "BA1")] == [1, 26, 27, 52, 53]
    assert sheet.auto_filter.ref == "A1:BA1"
