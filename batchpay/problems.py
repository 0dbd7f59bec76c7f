"""Row problems as values: a stable code, where it is, and what to do about it.

Codes are part of the JSON output, so they never change meaning; new checks get new codes.
Every code has an entry in the catalogue (``schemas/problems.toml``, read by
:mod:`batchpay.catalogue`): its title, severity, the form of its message and how to fix it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"  # blocks sending
    WARNING = "warning"  # shown, does not block


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    row: int | None = None  # as a spreadsheet program shows it; None for sheet-wide problems
    column: str | None = None
    value: str | None = None
    severity: Severity = Severity.ERROR

    def to_json(self) -> dict[str, Any]:
        from batchpay.catalogue import fix_for

        data = asdict(self)
        data["severity"] = str(self.severity)
        data["fix"] = fix_for(self.code)  # how to fix it, from the catalogue
        return data


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity is Severity.ERROR for p in problems)


def sort_key(problem: Problem) -> tuple[int, str, str]:
    return (problem.row or 0, problem.column or "", problem.code)
