"""Deterministic keys: the same batch and reference give the same keys on every machine.

A *row key* names a sheet row within a batch. Each deliberate attempt at paying it (1, 2, ...)
gets an *attempt key*, in the form its provider understands. Retries of one attempt reuse its
key; only a new attempt after a definite failure gets a new one.
"""

from __future__ import annotations

import hashlib
import uuid
from enum import StrEnum

_NAMESPACE = "batchpay/v1"


class KeyForm(StrEnum):
    UUID = "uuid"  # idempotency_key / order_id fields (UUID v4 layout, deterministic bits)
    TAG = "tag"  # a tag written into the description, for providers without a key field


def row_key(batch: str, reference: str) -> str:
    digest = hashlib.sha256(f"{_NAMESPACE}\x1f{batch}\x1f{reference}".encode()).hexdigest()
    return digest[:32]


def attempt_key(row: str, attempt: int, form: KeyForm) -> str:
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    digest = hashlib.sha256(f"{_NAMESPACE}\x1f{row}\x1f{attempt}".encode()).digest()
    if form is KeyForm.UUID:
        return str(uuid.UUID(bytes=digest[:16], version=4))
    return "bp-" + digest[:12].hex()
