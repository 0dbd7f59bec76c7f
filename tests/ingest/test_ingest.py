from __future__ import annotations

import codecs
from pathlib import Path

import openpyxl
import pytest

from batchpay.errors import SheetUnreadable
from batchpay.ingest import read_sheet


def _csv(tmp_path: Path, data: bytes | str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_csv_keeps_text_exactly_and_rows_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    text = (
        'ref,name,amount\r\n00123,NA,0.10\r\n\r\n"E-2","multi\nline",1E+05\r\n'
        ",,\r\nE-3,null,100\r\n"
    )
    sheet = read_sheet(_csv(tmp_path, text))
    assert sheet.headers == ["ref", "name", "amount"]
    assert sheet.header_row == 1
    assert list(sheet.frame.index) == [2, 4, 6]  # rows 3 and 5 are empty: skipped, not renumbered
    assert sheet.frame.loc[2].tolist() == ["00123", "NA", "0.10"]
    assert sheet.frame.loc[4].tolist() == ["E-2", "multi\nline", "1E+05"]
    assert sheet.frame.loc[6, 1] == "null"
    assert len(sheet.sha256) == 64


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = (
        delimiter.join(["ref", "amount", "currency"])
        + "\n"
        + delimiter.join(["A", "1.50", "USDT"])
        + "\n"
    )
    sheet = read_sheet(_csv(tmp_path, text))
    assert sheet.frame.loc[2].tolist() == ["A", "1.50", "USDT"]


def test_csv_with_bom_and_utf16(tmp_path: Path) -> None:
    text = "ref,amount\nÄ-1,5\n"
    assert read_sheet(_csv(tmp_path, codecs.BOM_UTF8 + text.encode())).headers == ["ref", "amount"]
    sheet = read_sheet(_csv(tmp_path, text.encode("utf-16"), "u16.csv"))
    assert sheet.frame.loc[2].tolist() == ["Ä-1", "5"]


def test_title_rows_above_the_header_keep_numbering(tmp_path: Path) -> None:
    sheet = read_sheet(_csv(tmp_path, ",,\nPayroll November,,\nref,amount,currency\nA,1,USDT\n"))
    assert sheet.header_row == 3
    assert sheet.headers == ["ref", "amount", "currency"]
    assert list(sheet.frame.index) == [4]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"\xff\xfe\xfa\x00bad", "not valid"),
        (b"ref,amount\nA,1,extra,more\n", "more cells than the header"),
    ],
)
def test_unreadable_csv_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(SheetUnreadable, match=message):
        read_sheet(_csv(tmp_path, content))


def test_missing_file_and_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(SheetUnreadable, match="no such file"):
        read_sheet(tmp_path / "nope.csv")
    other = tmp_path / "sheet.txt"
    other.write_text("x")
    with pytest.raises(SheetUnreadable, match=r"\.csv or \.xlsx"):
        read_sheet(other)


def test_xlsx_numbers_become_the_decimal_text_typed(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Payroll"])  # a title row
    ws.append([])
    ws.append(["ref", "amount", "currency"])
    ws.append(["00123", 0.1, "USDT"])
    ws.append([7, 1e-05, "BTC"])
    ws.append([None, None, None])
    ws.append(["E-9", 2500, "USDT"])
    other = wb.create_sheet("Bonus")
    other.append(["ref", "amount"])
    other.append(["B-1", 12.3456789])
    path = tmp_path / "s.xlsx"
    wb.save(path)
    sheet = read_sheet(path)
    assert sheet.headers == ["ref", "amount", "currency"]  # found below the title rows
    assert sheet.header_row == 3
    bonus = read_sheet(path, "Bonus")
    assert bonus.frame.loc[2].tolist() == ["B-1", "12.3456789"]
    frame = read_sheet(path).frame
    assert frame.loc[4, 0] == "00123" and frame.loc[4, 1] == "0.1"
    assert frame.loc[5, 0] == "7" and frame.loc[5, 1] == "0.00001"
    assert frame.loc[7, 1] == "2500"
    assert 6 not in frame.index
    with pytest.raises(SheetUnreadable, match="no sheet named"):
        read_sheet(path, "Missing")


def test_corrupt_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(SheetUnreadable, match="not a readable XLSX"):
        read_sheet(path)
