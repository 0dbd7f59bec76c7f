"""The key derivation lives on the ground floor, in :mod:`batchpay.keys`; re-exported here."""

from __future__ import annotations

from batchpay.keys import KeyForm, attempt_key, row_key

__all__ = ["KeyForm", "attempt_key", "row_key"]
