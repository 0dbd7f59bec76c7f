"""Deterministic keys: the same batch and reference give the same keys on every machine.

A *row key* names a sheet row within a batch. Each deliberate attempt at paying it (1, 2, ...)
gets an *attempt key*, in the form its provider understands. Retries of one attempt reuse its
key; only a new attempt after a definite failure gets a new one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from enum import StrEnum

_NAMESPACE = "batchpay/v1"


class KeyForm(StrEnum):
    UUID = "uuid"  # idempotency_key / order_id fields (UUID v4 layout, deterministic bits)
    TAG = "tag"  # a tag written into the description, for providers without a key field


def _digest(*parts: str | int) -> bytes:
    # A JSON array is unambiguous whatever characters a batch id or reference contains.
    return hashlib.sha256(json.dumps([_NAMESPACE, *parts]).encode()).digest()


def row_key(batch: str, reference: str) -> str:
    return _digest(batch, reference).hex()[:32]


def attempt_key(row: str, attempt: int, form: KeyForm) -> str:
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    digest = _digest(row, attempt)
    if form is KeyForm.UUID:
        return str(uuid.UUID(bytes=digest[:16], version=4))
    return "bp-" + digest[:12].hex()
