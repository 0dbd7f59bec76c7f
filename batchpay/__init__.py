"""batchpay: pay a payroll sheet through a payout provider exactly once, and reconcile it.

The library is the product; the ``batchpay`` command is a thin shell over :mod:`batchpay.api`.

The package face is lazy: ``batchpay.run`` and its siblings load :mod:`batchpay.api` (and
with it the sheet stages, pandas and pandera) only when first asked for, so ``import
batchpay.money`` or ``batchpay --version`` costs milliseconds.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchpay.api import RunResult, ValidationResult, report, retry, run, status, validate

__all__ = ["RunResult", "ValidationResult", "report", "retry", "run", "status", "validate"]


class _Face(types.ModuleType):
    """``batchpay.validate`` and ``batchpay.report`` name both a function of the face and a
    subpackage. The function wins, as it always has: loading the subpackage later does not
    replace the package's attribute (the subpackage stays in ``sys.modules``)."""

    def __getattr__(self, name: str) -> Any:
        if name not in __all__:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        from batchpay import api

        value = getattr(api, name)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            return  # the import system binding a same-named subpackage
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *__all__})


sys.modules[__name__].__class__ = _Face
