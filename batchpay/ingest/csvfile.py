"""CSV bytes -> a grid of strings indexed by spreadsheet row number."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from pathlib import Path

import pandas as pd

from batchpay.errors import SheetUnreadable
from batchpay.ingest import limits

_DELIMITERS = ",;\t"


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (by BOM, or by its zero bytes), else cp1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4096]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4:
        return "utf-16-be"
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def decode(data: bytes, path: Path) -> tuple[str, str]:
    encoding = detect_encoding(data)
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        raise SheetUnreadable(
            f"{path}: not valid {encoding} text (byte {exc.start}); save the sheet as 'CSV UTF-8'"
        ) from None


def sniff_delimiter(text: str) -> str:
    # the sniffer splits lines at "\n" only: a file saved with CR-only endings (old Mac
    # Excel) would look like one long line
    sample = text[: 64 * 1024].replace("\r\n", "\n").replace("\r", "\n")
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        # the delimiter that splits some top line the most: a title line above the header
        # holds none
        lines = sample.splitlines()[:TOP_LINES]
        return max(_DELIMITERS, key=lambda d: max((x.count(d) for x in lines), default=0))


TOP_LINES = 50
_OTHER_DELIMITERS = "|:^~#!/\\ "
_RARE = "|^~"


def _top_width(text: str, delimiter: str, path: Path) -> int:
    """The widest of the top lines, so a title line above the header fits; a file whose
    top lines are all one cell wide was written with a delimiter batchpay does not read."""
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # a long cell is read whole, as pandas does
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        top = list(itertools.islice(reader, TOP_LINES))
    except csv.Error as exc:
        raise SheetUnreadable(f"{path}: not a well-formed CSV file ({exc})") from None
    finally:
        csv.field_size_limit(limit)
    width = max((len(row) for row in top), default=1)
    header = _other_delimiter(text, width)
    if header is not None:
        raise SheetUnreadable(
            f"{path}: the delimiter was not recognised. batchpay reads cells separated by "
            f"a comma, a semicolon or a tab, and read the header as one cell: "
            f"{header[:200]!r}. Save the sheet as 'CSV UTF-8 (Comma delimited)'"
        )
    return width


def _other_delimiter(text: str, width: int) -> str | None:
    """The header line, when the top lines are split by a character batchpay does not read
    as a delimiter: all one cell wide, or most of them holding the same number (2 or more)
    of pipes (say) that would make more cells than the recognised delimiter does."""
    lines = [x for x in text[: 64 * 1024].splitlines()[:TOP_LINES] if x.strip()]
    if not lines:
        return None
    for candidate in _OTHER_DELIMITERS:
        counts = [x.count(candidate) for x in lines]
        common = max(set(counts), key=counts.count)
        steady = counts.count(common) * 2 >= len(lines)
        # only a character nobody writes in names, dates or amounts counts when the
        # recognised delimiter splits the lines too
        rare = candidate in _RARE and common >= 2 and steady
        if common >= 1 and common + 1 > width and (width == 1 or rare):
            return next(x for x, n in zip(lines, counts, strict=True) if n == common)
    return lines[0] if width == 1 else None


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _explain_parser_error(message: str) -> str:
    found = _FIELDS.search(message)
    if found:
        expected, line, saw = found.groups()
        return (
            f"line {line} has {saw} cells but the lines above have {expected}; "
            "it has more cells than the header (an unquoted comma or delimiter?)"
        )
    return f"not a well-formed CSV file ({message.strip()})"


def read_csv_rows(data: bytes, path: Path) -> tuple[pd.DataFrame, str]:
    """The grid, and the encoding it was read in."""
    text, encoding = decode(data, path)
    if "\x00" in text:
        raise SheetUnreadable(f"{path}: contains NUL bytes; is it really a CSV file?")
    delimiter = sniff_delimiter(text)
    width = _top_width(text, delimiter, path)
    if width > limits.MAX_COLUMNS:  # 100,000 columns took minutes of validation
        raise SheetUnreadable(
            f"{path}: {width} columns; batchpay reads at most {limits.MAX_COLUMNS}. "
            "Delete the stray columns"
        )
    # UTF-8 goes to the C parser as the bytes themselves: handing it the decoded text makes
    # pandas encode it back, chunk by chunk, which took 40% longer than parsing a 1M-row file
    source: io.StringIO | io.BytesIO = (
        io.BytesIO(data) if encoding == "utf-8-sig" else io.StringIO(text)
    )
    try:
        grid = pd.read_csv(
            source,
            encoding="utf-8-sig" if encoding == "utf-8-sig" else None,
            sep=delimiter,
            header=None,
            names=range(width),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            nrows=limits.MAX_ROWS + 1,  # parsing stops there: a longer file is refused below
        )
    except pd.errors.EmptyDataError:
        raise SheetUnreadable(f"{path}: the sheet is empty") from None
    except pd.errors.ParserError as exc:
        raise SheetUnreadable(f"{path}: {_explain_parser_error(str(exc))}") from None
    if len(grid) > limits.MAX_ROWS:
        raise SheetUnreadable(f"{path}: more than {limits.MAX_ROWS} rows; split the sheet")
    grid.index = pd.RangeIndex(1, len(grid) + 1)  # spreadsheet rows are 1-based
    return grid.fillna(""), encoding
