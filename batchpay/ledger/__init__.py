"""Stage 5, ledger: the write-ahead record of every row and every request.

The rule that makes re-runs safe: an attempt's intent (row -> ``sending``, attempt record with
the key and the redacted request) is *committed before the request leaves*. After a crash the
ledger therefore always knows which rows might have been sent, and they are resolved with the
provider before anything is sent again.

The ledger is a SQLite file (the default) or a PostgreSQL database (``postgresql://`` URL),
through one SQLAlchemy Core code path (:mod:`.store`). The names below are loaded when first
used, so reading the settings (which parses a ledger location) does not import SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from batchpay.ledger.location import LedgerUrl, Location, parse_location

if TYPE_CHECKING:
    from batchpay.ledger.callbacks import CallbackResult, apply_callback
    from batchpay.ledger.lock import batch_lock
    from batchpay.ledger.outcome import Outcome
    from batchpay.ledger.rows import AttemptRecord, BatchInfo, Doubt, LedgerRow
    from batchpay.ledger.store import Intent, Ledger
    from batchpay.ledger.tries import Tries, Try

_WHERE = {
    "CallbackResult": "callbacks",
    "apply_callback": "callbacks",
    "batch_lock": "lock",
    "Outcome": "outcome",
    "AttemptRecord": "rows",
    "BatchInfo": "rows",
    "Doubt": "rows",
    "Intent": "store",
    "Ledger": "store",
    "LedgerRow": "rows",
    "Tries": "tries",
    "Try": "tries",
}


def __getattr__(name: str) -> Any:
    room = _WHERE.get(name)
    if room is None:
        raise AttributeError(f"module 'batchpay.ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"batchpay.ledger.{room}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AttemptRecord",
    "BatchInfo",
    "CallbackResult",
    "Doubt",
    "Intent",
    "Ledger",
    "LedgerRow",
    "LedgerUrl",
    "Location",
    "Outcome",
    "Tries",
    "Try",
    "apply_callback",
    "batch_lock",
    "parse_location",
]
