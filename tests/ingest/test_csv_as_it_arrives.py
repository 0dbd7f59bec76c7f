"""CSV files as they arrive: old line endings, huge cells, unknown delimiters and too many
rows are read or refused clearly, never with a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from batchpay.errors import SheetUnreadable
from batchpay.ingest import limits, read_sheet
from batchpay.validate import validate_sheet
from tests.conftest import TRON

HEADER = "reference,amount,currency,network,address"


def _write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def _lines(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_any_line_ending_reads_the_same(tmp_path: Path, ending: str) -> None:
    text = _lines(f"E-1,10,USDT,TRON,{TRON[0]}", f'E-2,"11",USDT,TRON,{TRON[1]}')
    sheet = read_sheet(_write(tmp_path, text.replace("\n", ending)))
    assert sheet.headers == HEADER.split(",")
    assert sheet.frame[0].tolist() == ["E-1", "E-2"] and list(sheet.frame.index) == [2, 3]
    assert validate_sheet(sheet, "sandbox").ok


def test_cr_only_with_a_title_row_and_semicolons(tmp_path: Path) -> None:
    text = "Payroll\r" + _lines(f"E-1,10,USDT,TRON,{TRON[0]}").replace(",", ";")
    sheet = read_sheet(_write(tmp_path, text.replace("\n", "\r")))
    assert sheet.header_row == 2 and sheet.frame.loc[3].tolist()[:2] == ["E-1", "10"]


@pytest.mark.parametrize("position", ["top", "deep"])
def test_a_cell_over_128_kib_is_read_whole(tmp_path: Path, position: str) -> None:
    big = "x" * 200_000
    rows = [f"E-{i},{10 + i},USDT,TRON,{TRON[0]}" for i in range(60)]
    rows[0 if position == "top" else 59] = f"E-big,{big},USDT,TRON,{TRON[0]}"
    sheet = read_sheet(_write(tmp_path, _lines(*rows)))
    row = 2 if position == "top" else 61
    assert sheet.frame.loc[row, 1] == big
    result = validate_sheet(sheet, "sandbox")
    (problem,) = [p for p in result.problems if p.row == row]
    assert problem.code == "amount.not_a_number" and "(200000 characters)" in problem.message
    assert len(problem.message) < 200


@pytest.mark.parametrize("delimiter", ["|", ":", "^", " "])
def test_an_unknown_delimiter_is_one_clear_error(tmp_path: Path, delimiter: str) -> None:
    text = _lines(f"E-1,10,USDT,TRON,{TRON[0]}").replace(",", delimiter)
    shown = HEADER.replace(",", delimiter)
    with pytest.raises(SheetUnreadable) as caught:
        read_sheet(_write(tmp_path, "Payroll November\n" + text))
    message = str(caught.value)
    assert "delimiter was not recognised" in message and repr(shown) in message
    assert "missing" not in message


def test_a_one_column_sheet_with_a_title_names_the_header(tmp_path: Path) -> None:
    with pytest.raises(SheetUnreadable, match=r"as one cell: 'reference'"):
        read_sheet(_write(tmp_path, "reference\nE-1\nE-2\n"))


def test_rows_past_the_cap_are_refused_without_reading_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_ROWS", 4)
    exactly = _lines(*[f"E-{i},{10 + i},USDT,TRON,{TRON[0]}" for i in range(3)])
    assert len(read_sheet(_write(tmp_path, exactly)).frame) == 3  # 4 lines: at the cap
    over = _lines(*[f"E-{i},{10 + i},USDT,TRON,{TRON[0]}" for i in range(4)])
    with pytest.raises(SheetUnreadable, match="more than 4 rows; split the sheet"):
        read_sheet(_write(tmp_path, over))
    blank_lines = _lines(f"E-1,10,USDT,TRON,{TRON[0]}") + "\n" * 10
    with pytest.raises(SheetUnreadable, match="more than 4 rows"):  # rows as Excel numbers them
        read_sheet(_write(tmp_path, blank_lines))


def test_a_two_million_row_csv_is_refused(tmp_path: Path) -> None:
    assert limits.MAX_ROWS == 1_100_000
    path = tmp_path / "huge.csv"
    path.write_bytes(b"reference,amount\n" + b"E,1\n" * 2_000_000)
    started = time.monotonic()
    with pytest.raises(SheetUnreadable, match="more than 1100000 rows"):
        read_sheet(path)
    assert time.monotonic() - started < 60  # generous: the parse stops at the cap


def test_a_pipe_file_with_commas_in_a_cell_is_still_one_delimiter_error(tmp_path: Path) -> None:
    text = "reference|amount|currency|network|address|description\n" + "".join(
        f"E-{i}|{10 + i}|USDT|TRON|{TRON[0]}|bonus, November\n" for i in range(5)
    )
    with pytest.raises(SheetUnreadable, match="delimiter was not recognised") as caught:
        read_sheet(_write(tmp_path, text))
    assert "'reference|amount|currency|network|address|description'" in str(caught.value)


def test_a_comma_file_with_pipes_in_one_cell_is_read(tmp_path: Path) -> None:
    text = _lines(
        f"E-1,10,USDT,TRON,{TRON[0]}",
        f'E-2,11,USDT,TRON,"{TRON[1]}"',
    ).replace("reference", "ref|id|x")
    sheet = read_sheet(_write(tmp_path, text))
    assert sheet.headers[0] == "ref|id|x" and len(sheet.frame) == 2


def test_words_dates_and_times_in_a_comma_file_are_not_taken_for_a_delimiter(
    tmp_path: Path,
) -> None:
    text = "reference,amount,description\n" + "".join(
        f"E-{i},{10 + i},paid 01/11/2026 12:30:00 for the whole month\n" for i in range(5)
    )
    sheet = read_sheet(_write(tmp_path, text))
    assert sheet.headers == ["reference", "amount", "description"] and len(sheet.frame) == 5
