"""The sheet as read: the type the ingest stage hands on, below both ``ingest`` and
``ingest.unseen`` so neither imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from batchpay.problems import Problem

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Sheet:
    """The file as read. ``frame`` is all ``str``; its index is the spreadsheet row number."""

    path: Path
    sha256: str
    headers: list[str]  # as written, in order
    header_row: int
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)  # found while reading

    @property
    def name(self) -> str:
        return self.path.name
