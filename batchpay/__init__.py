"""batchpay: pay a payroll sheet through a payout provider exactly once, and reconcile it.

The library is the product; the ``batchpay`` command is a thin shell over :mod:`batchpay.api`.
"""

from batchpay.api import RunResult, ValidationResult, report, retry, run, status, validate

__all__ = ["RunResult", "ValidationResult", "report", "retry", "run", "status", "validate"]
