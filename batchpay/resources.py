"""Find the data folders: inside the wheel (``batchpay/_data``) or at the repository root."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"batchpay data folder {name!r} is missing from this installation")


@cache
def load_schema_file(filename: str) -> dict[str, Any]:
    with (data_dir("schemas") / filename).open("rb") as fh:
        return tomllib.load(fh)
