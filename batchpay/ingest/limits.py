"""Sizes past which a sheet is refused before it is read whole; the same for CSV and XLSX."""

from __future__ import annotations

MAX_ROWS = 1_100_000  # Excel shows 1,048,576; a bigger file was not checked by a person
MAX_COLUMNS = 1_000  # a payroll sheet needs a dozen; XFD (16384) is Excel's last
