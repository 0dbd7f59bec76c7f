"""What the library's commands return: plain results, shaped as JSON by
:mod:`batchpay.jsonout`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from batchpay.model import Rounding
from batchpay.problems import Problem

if TYPE_CHECKING:
    from batchpay.ledger import Location
    from batchpay.plan import Plan
    from batchpay.providers import Quote
    from batchpay.report import Report
    from batchpay.report.model import BatchSummary


@dataclass
class ValidationResult:
    annotated: Path | None
    sheet: str
    provider: str | None
    kind: str
    rows: int
    problems: list[Problem]
    roundings: list[Rounding]
    totals: dict[str, dict[str, str]]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


@dataclass
class RunResult:
    batch: str
    provider: str
    sandbox: bool
    dry_run: bool = False
    plan: Plan | None = None
    quotes: dict[str, Quote] = field(default_factory=dict)  # row_key -> quote (dry run)
    summary: BatchSummary | None = None
    report_files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # warnings
    requests_sent: int = 0
    stopped: str | None = None  # why sending stopped early (circuit breaker)
    stop_exit: int | None = None  # 2: the provider refused the credentials
    ledger_path: Location | None = None

    @functools.cached_property
    def report(self) -> Report | None:
        """The full reconciliation, read from the ledger when first asked for: a resumed
        100k-row batch that changed nothing needs only the summary."""
        if self.dry_run or self.ledger_path is None:
            return None
        from batchpay.ledger import Ledger
        from batchpay.report import build_report

        with Ledger(self.ledger_path, create=False) as ledger:
            return build_report(ledger, self.batch)

    @property
    def exit_code(self) -> int:
        if self.stop_exit is not None:
            return self.stop_exit
        if self.dry_run or self.summary is None:
            return 0
        return 0 if self.summary.all_accepted else 3
