"""What a provider's callback verifier returns, as plain data, and the guarded JSON reader the
verifiers share. Each provider's verifier lives in its own module, beside its adapter; the
webhook receiver (:mod:`batchpay.webhooks`) finds them through :mod:`batchpay.registry`.
Signatures are compared in constant time; anything that does not verify is a
:class:`Rejected`, never an exception."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from batchpay.model import RowStatus

MAX_DEPTH = 32  # no provider nests its callback deeper than a few levels
_TOKENS = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)  # escapes, quotes, brackets: one pass


@dataclass(frozen=True)
class Event:
    provider: str
    provider_ref: str
    status: RowStatus
    tx_hash: str | None = None
    event_id: str | None = None  # for dedupe, where the provider sends one
    message: str | None = None


@dataclass(frozen=True)
class Rejected:
    http_status: int
    reason: str


Verifier = Callable[[Mapping[str, str], bytes, float], "Event | Rejected"]  # float-ok: now


def field_text(value: Any) -> str | None:
    """A field of a verified callback as text: a string or a whole number; absent or empty is
    None. Anything else (an object, a list, true, a fraction) is a malformed callback
    (ValueError, answered 400), never a value handed on to the ledger."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"a callback field holds {type(value).__name__}, not text")


def read_json(body: bytes) -> Any:
    """The body as JSON, refused (ValueError) when nested deeper than :data:`MAX_DEPTH`, which
    is checked before parsing: 2328.io's signature is inside the body, so anyone can make us
    parse it, and the parser recurses once per level."""
    depth, in_string = 0, False
    for token in _TOKENS.finditer(body):
        mark = token.group()
        if mark == b'"':
            in_string = not in_string
        elif not in_string and mark in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
        elif not in_string and mark in (b"]", b"}"):
            depth -= 1
    return json.loads(body, parse_float=Decimal, object_pairs_hook=OrderedDict)
