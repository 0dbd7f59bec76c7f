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
    sample = text[: 64 * 1024]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(_DELIMITERS, key=first.count) if first else ","


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
    # size the table by the widest of the top lines, so a title line above the header fits
    top = list(itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), 50))
    width = max((len(row) for row in top), default=1)
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
        )
    except pd.errors.EmptyDataError:
        raise SheetUnreadable(f"{path}: the sheet is empty") from None
    except pd.errors.ParserError as exc:
        raise SheetUnreadable(f"{path}: {_explain_parser_error(str(exc))}") from None
    grid.index = pd.RangeIndex(1, len(grid) + 1)  # spreadsheet rows are 1-based
    return grid.fillna(""), encoding
