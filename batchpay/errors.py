"""The one exception tree for real failures.

Row-level problems are *data* (see :mod:`batchpay.problems`); these exceptions are for when a
command has to stop. Each carries the CLI exit code it maps to, so the CLI never guesses.

    BatchpayError
    ├── UsageError            exit 2  bad flags or arguments
    ├── ConfigError           exit 2  bad config file, missing credential
    ├── SheetUnreadable       exit 2  file missing, wrong type, corrupt
    ├── SheetRejected         exit 1  validation or planning found errors; nothing was sent
    ├── BatchLocked           exit 4  another process holds this batch
    ├── ApprovalError         exit 5  the batch lacks approvals, its plan no longer matches the
    │                                 approved digest, or an approval was refused; nothing sent
    ├── NotConfirmed          exit 2  the operator did not confirm a live run; nothing was sent
    ├── BalanceError          exit 6  the provider balance does not cover the batch (total
    │                                 plus fees per currency); nothing was sent
    ├── LedgerError           exit 2  ledger missing, corrupt, read-only, full, or from a newer
    │                                 batchpay
    ├── ReportUnwritable      exit 2  the report folder cannot be written (nothing was sent)
    └── StoppedAfterPayouts   exit 3  a failure after payouts had left; the report was written
                                      where it could be

    Interrupted (a KeyboardInterrupt, not a BatchpayError) exit 130 / 143
                                      SIGINT / SIGTERM; the ledger is exact
    Terminated (a KeyboardInterrupt) what the CLI's SIGTERM handler raises
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

    from batchpay.problems import Problem


class BatchpayError(Exception):
    exit_code = 2


class UsageError(BatchpayError):
    exit_code = 2


class ConfigError(BatchpayError):
    exit_code = 2


class SheetUnreadable(BatchpayError):
    exit_code = 2


class SheetRejected(BatchpayError):
    """The sheet (or its plan against the ledger) has errors; nothing was sent."""

    exit_code = 1

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


class BatchLocked(BatchpayError):
    exit_code = 4


class ApprovalError(BatchpayError):
    """Four eyes: a batch that lacks the approvals it needs, or whose plan is not the one
    approved (run, retry), or an approval that may not be given (approve); nothing was sent."""

    exit_code = 5


class NotConfirmed(BatchpayError):
    """``run`` on a terminal against a live provider: the batch id was not typed back."""

    exit_code = 2


class BalanceError(BatchpayError):
    """The provider balance does not cover what is to be sent, per currency; nothing was
    sent. ``shortfalls``: currency -> (need, balance)."""

    exit_code = 6

    def __init__(self, message: str, shortfalls: dict[str, tuple[Decimal, Decimal]]) -> None:
        super().__init__(message)
        self.shortfalls = shortfalls


class LedgerError(BatchpayError):
    exit_code = 2


class ReportUnwritable(BatchpayError):
    exit_code = 2


class StoppedAfterPayouts(BatchpayError):
    """Something failed after payouts had left (a full disk, a vanished report folder). The
    ledger is exact as after a crash; ``report_files`` are where the report could be written."""

    exit_code = 3

    def __init__(self, message: str, report_files: list[Path]) -> None:
        super().__init__(message)
        self.report_files = report_files


class Interrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C) or SIGTERM stopped a command. Still a KeyboardInterrupt, so a library
    caller's Ctrl-C stays one; the CLI exits 128 + the signal number (130, 143)."""

    def __init__(
        self,
        signum: int = signal.SIGINT,
        message: str = "interrupted",
        report_files: list[Path] | None = None,
    ) -> None:
        super().__init__(message)
        self.signum = signum
        self.message = message
        self.report_files = report_files or []

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)


class Terminated(KeyboardInterrupt):
    """Raised by the CLI's SIGTERM handler, so SIGTERM stops a command the way Ctrl-C does."""

    signum = signal.SIGTERM
