"""Bytes on the wire: JSON whose amounts are exact, and the providers' signatures.

``json`` cannot write a :class:`~decimal.Decimal` as a number, and going through ``float``
would change it; :func:`dumps` writes a Decimal as its exact decimal literal instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from batchpay.money import to_wire


def dumps(value: Any, *, ensure_ascii: bool = False) -> str:
    """Compact JSON; Decimals become number literals (``1.10``, never ``1.1000000000000001``)."""
    if isinstance(value, Decimal):
        return to_wire(value)
    if isinstance(value, dict):
        items = (
            f"{json.dumps(str(k), ensure_ascii=ensure_ascii)}:{dumps(v, ensure_ascii=ensure_ascii)}"
            for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v, ensure_ascii=ensure_ascii) for v in value) + "]"
    if isinstance(value, float):  # float-ok: refused, never written
        raise TypeError("a float must never reach the wire; use Decimal")
    return json.dumps(value, ensure_ascii=ensure_ascii)


def loads(body: bytes | str) -> Any:
    """Parse JSON keeping every number with a fraction as an exact Decimal."""
    return json.loads(body, parse_float=Decimal)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hmac_hex(key: bytes, message: bytes, digest: str) -> str:
    return hmac.new(key, message, getattr(hashlib, digest)).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    """Whether two secrets (signatures, keys) are equal, compared in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
