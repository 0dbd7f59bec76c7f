"""The one exception tree for real failures.

Row-level problems are *data* (see :mod:`batchpay.problems`); these exceptions are for when a
command has to stop. Each carries the CLI exit code it maps to, so the CLI never guesses.

    BatchpayError
    ├── UsageError            exit 2  bad flags or arguments
    ├── ConfigError           exit 2  bad config file, missing credential
    ├── SheetUnreadable       exit 2  file missing, wrong type, corrupt
    ├── SheetRejected         exit 1  validation or planning found errors; nothing was sent
    ├── BatchLocked           exit 4  another process holds this batch
    ├── LedgerError           exit 2  ledger missing, corrupt or from a newer batchpay
    └── ProviderError         exit 3  a provider failure that stops the whole run
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
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


class LedgerError(BatchpayError):
    exit_code = 2


class ProviderError(BatchpayError):
    exit_code = 3
