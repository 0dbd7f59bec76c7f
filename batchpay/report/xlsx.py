"""A small streaming XLSX writer for the report: plain SpreadsheetML, written row by row.

openpyxl spends about 10 µs of its own Python on every cell, even in write-only mode, and a
100k-row report has 1.7 million cells. The report needs only text, numbers, a bold header,
column widths, frozen panes and a filter, so the sheet XML is written here directly with
inline strings. The package is deterministic: the same report gives the same bytes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

Cell = str | int | Decimal | None

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed zip timestamps: same report, same bytes
_FLUSH = 1 << 20
# Characters XML 1.0 cannot carry at all; a spreadsheet would refuse the file.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
BOLD = 1  # style index of the bold font in the style sheet below


def column_letter(number: int) -> str:
    """Spreadsheet column letters, 1 -> A, 27 -> AA (openpyxl's get_column_letter, which
    would load openpyxl and numpy into every command that writes a report)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class Sheet:
    name: str
    rows: Iterable[Sequence[Cell]]
    bold_rows: frozenset[int] = frozenset()  # 1-based row numbers written bold
    widths: Sequence[float] = ()
    freeze_row: int = 0  # rows above this stay on screen; 0 freezes nothing
    filter_columns: int = 0  # an auto-filter over the first row and this many columns
    filter_rows: int = 0


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as package:
        _part(package, "[Content_Types].xml", _content_types(len(sheets)))
        _part(package, "_rels/.rels", _ROOT_RELS)
        _part(package, "xl/workbook.xml", _workbook(sheets))
        _part(package, "xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        _part(package, "xl/styles.xml", _STYLES)
        for number, sheet in enumerate(sheets, start=1):
            info = zipfile.ZipInfo(f"xl/worksheets/sheet{number}.xml", _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            _fast_deflate(info)
            with package.open(info, "w", force_zip64=True) as stream:
                _write_sheet(stream, sheet)


def _fast_deflate(info: zipfile.ZipInfo) -> None:
    """Deflate level 1 for the big sheet: half of writing a 100k-row workbook was zlib at
    level 6, for a file only about a fifth smaller. ``ZipFile.open`` takes the level only
    from the entry: a public attribute from Python 3.13, a private one before."""
    if hasattr(info, "compress_level"):
        info.compress_level = 1
    else:
        info._compresslevel = 1  # type: ignore[attr-defined]


def _part(package: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    package.writestr(info, text.encode("utf-8"))


def _write_sheet(stream: IO[bytes], sheet: Sheet) -> None:
    head = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}">']
    if sheet.freeze_row:
        top = f"A{sheet.freeze_row + 1}"
        head.append(
            '<sheetViews><sheetView workbookViewId="0">'
            f'<pane ySplit="{sheet.freeze_row}" topLeftCell="{top}" '
            'activePane="bottomLeft" state="frozen"/>'
            f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
            "</sheetView></sheetViews>"
        )
    if sheet.widths:
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
            for i, w in enumerate(sheet.widths, start=1)
        )
        head.append(f"<cols>{cols}</cols>")
    head.append("<sheetData>")
    stream.write("".join(head).encode("utf-8"))
    buffer: list[str] = []
    size = 0
    letters: list[str] = []
    for number, values in enumerate(sheet.rows, start=1):
        while len(letters) < len(values):
            letters.append(column_letter(len(letters) + 1))
        line = _row(number, values, letters, BOLD if number in sheet.bold_rows else 0)
        buffer.append(line)
        size += len(line)
        if size > _FLUSH:
            stream.write("".join(buffer).encode("utf-8"))
            buffer, size = [], 0
    buffer.append("</sheetData>")
    if sheet.filter_columns:
        last = f"{column_letter(sheet.filter_columns)}{max(sheet.filter_rows, 1)}"
        buffer.append(f'<autoFilter ref="A1:{last}"/>')
    buffer.append("</worksheet>")
    stream.write("".join(buffer).encode("utf-8"))


def _row(number: int, values: Sequence[Cell], letters: list[str], style: int) -> str:
    s = f' s="{style}"' if style else ""
    cells = []
    for letter, value in zip(letters, values, strict=False):
        if value is None:
            continue
        ref = f"{letter}{number}"
        if isinstance(value, str):
            text = value if value.isprintable() else _ILLEGAL.sub("", value)
            if "&" in text or "<" in text or ">" in text:
                text = escape(text)
            cells.append(
                f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
            )
        elif isinstance(value, bool):
            cells.append(f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, Decimal):
            cells.append(f'<c r="{ref}"{s}><v>{value:f}</v></c>')
        else:
            cells.append(f'<c r="{ref}"{s}><v>{int(value)}</v></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for n in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        f"{sheets}</Types>"
    )


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


def _workbook(sheets: Sequence[Sheet]) -> str:
    entries = "".join(
        f'<sheet name={quoteattr(s.name)} sheetId="{n}" r:id="rId{n}"/>'
        for n, s in enumerate(sheets, start=1)
    )
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n - 1}" hidden="1">'
        f"{escape(_quoted(s.name))}!$A$1:${column_letter(s.filter_columns)}$"
        f"{max(s.filter_rows, 1)}</definedName>"
        for n, s in enumerate(sheets, start=1)
        if s.filter_columns
    )
    defined = f"<definedNames>{names}</definedNames>" if names else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f"<sheets>{entries}</sheets>{defined}</workbook>"
    )


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PKG_REL}">{sheets}'
        f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
