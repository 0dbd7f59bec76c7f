"""CSV bytes -> a grid of strings indexed by spreadsheet row number."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pandas as pd

from batchpay.errors import SheetUnreadable

_DELIMITERS = ",;\t"


def decode(data: bytes, path: Path) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SheetUnreadable(
            f"{path}: not valid {encoding.upper()} text (byte {exc.start}); "
            "save the sheet as 'CSV UTF-8'"
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


def read_csv_rows(data: bytes, path: Path) -> pd.DataFrame:
    text = decode(data, path)
    if "\x00" in text:
        raise SheetUnreadable(f"{path}: contains NUL bytes; is it really a CSV file?")
    delimiter = sniff_delimiter(text)
    try:
        grid = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
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
    return grid.fillna("")
