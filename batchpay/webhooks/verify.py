"""Verify a provider's callback and read what it says, as plain data. Signatures are compared
in constant time; anything that does not verify is a :class:`Rejected`, never an exception."""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from batchpay.config import Environment
from batchpay.errors import ConfigError
from batchpay.model import RowStatus
from batchpay.providers import pontis_crypto
from batchpay.providers.base import map_status
from batchpay.providers.oxapay import STATUSES as OXAPAY_STATUSES
from batchpay.providers.pay2328 import STATUSES as P2328_STATUSES
from batchpay.providers.pontis import STATUSES as PONTIS_STATUSES
from batchpay.providers.thedex import STATUSES as THEDEX_STATUSES
from batchpay.providers.wire import b64, hmac_hex, same

PONTIS_WINDOW_SECONDS = 300
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


def _json(body: bytes) -> Any:
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


def _text(value: Any) -> str | None:
    """A field of a verified callback as text: a string or a whole number; absent or empty is
    None. Anything else (an object, a list, true) is a malformed callback (ValueError: 400),
    never a value handed on to the ledger."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"a callback field holds {type(value).__name__}, not text")


def verifier(provider: str, env: Environment) -> Verifier:
    """The verifier for ``provider``, with its key from the environment (ConfigError if unset)."""
    if provider == "oxapay":
        key = env.secret("BATCHPAY_OXAPAY_PAYOUT_API_KEY")
        return lambda h, b, now: _oxapay(h, b, key.reveal())
    if provider == "thedex":
        api_key = env.secret("BATCHPAY_THEDEX_API_KEY")
        secret = env.secret("BATCHPAY_THEDEX_API_SECRET")
        return lambda h, b, now: _thedex(h, b, api_key.reveal(), secret.reveal())
    if provider == "pontis":
        hmac_secret = env.secret("BATCHPAY_PONTIS_HMAC_SECRET")
        return lambda h, b, now: _pontis(h, b, hmac_secret.reveal(), now)
    if provider == "2328io":
        key = env.secret("BATCHPAY_2328IO_PAYOUT_API_KEY")
        return lambda h, b, now: _2328io(b, key.reveal())
    raise ConfigError(f"no webhooks for provider {provider!r}")


def _oxapay(headers: Mapping[str, str], body: bytes, key: str) -> Event | Rejected:
    expected = hmac_hex(key.encode(), body, "sha512")
    if not same(headers.get("hmac", ""), expected):
        return Rejected(401, "bad HMAC signature")
    data = _json(body)
    ref = _text(data.get("track_id")) if isinstance(data, dict) else None
    if ref is None:
        return Rejected(400, "no track_id")
    return Event(
        "oxapay",
        ref,
        map_status(OXAPAY_STATUSES, _text(data.get("status"))),
        _text(data.get("tx_hash")),
    )


def _thedex(headers: Mapping[str, str], body: bytes, api_key: str, secret: str) -> Event | Rejected:
    payload = b64(body)
    signature = hmac_hex(secret.encode(), payload.encode(), "sha512")
    if not (
        same(headers.get("x-ex-apikey", ""), api_key)
        and same(headers.get("x-ex-payload", ""), payload)
        and same(headers.get("x-ex-signature", ""), signature)
    ):
        return Rejected(401, "bad signature")
    data = _json(body)
    ref = _text(data.get("id")) if isinstance(data, dict) else None
    if ref is None:
        return Rejected(400, "no payout id")
    raw = _text(data.get("status")) or ""
    status = (
        THEDEX_STATUSES.get(int(raw), RowStatus.UNKNOWN)
        if raw.isascii() and raw.isdigit()
        else RowStatus.UNKNOWN
    )
    return Event("thedex", ref, status, _text(data.get("transactionId")))


def _pontis(
    headers: Mapping[str, str],
    body: bytes,
    hmac_secret: str,
    now: float,  # float-ok: unix seconds
) -> Event | Rejected:
    timestamp = headers.get("x-pontis-timestamp", "")
    event_id = headers.get("x-pontis-event-id", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > PONTIS_WINDOW_SECONDS:
        return Rejected(401, "timestamp missing or outside the 300-second window")
    if not event_id:
        return Rejected(400, "no event id")
    key = pontis_crypto.key_bytes(hmac_secret)
    expected = "sha256=" + hmac_hex(key, timestamp.encode() + b"." + body, "sha256")
    if not same(headers.get("x-pontis-signature", ""), expected):
        return Rejected(401, "bad signature")
    data = _json(body)
    inner = data.get("data", data) if isinstance(data, dict) else None
    ref = _text(inner.get("transaction_id")) if isinstance(inner, dict) else None
    if ref is None or not isinstance(inner, dict):
        return Rejected(400, "no transaction_id")
    return Event(
        "pontis",
        ref,
        map_status(PONTIS_STATUSES, _text(inner.get("status"))),
        None,
        event_id,
        _text(inner.get("status_message")),
    )


def _encodings(data: Mapping[str, Any]) -> set[str]:
    """The payload as PHP or JSON.stringify would write it: slashes and non-ASCII escaped or not
    (which one 2328.io uses is unconfirmed, so every combination is tried)."""
    from batchpay.providers.wire import dumps

    variants = set()
    for ascii_only in (False, True):
        text = dumps(dict(data), ensure_ascii=ascii_only)
        variants |= {text, text.replace("/", "\\/")}
    return variants


def _2328io(body: bytes, key: str) -> Event | Rejected:
    try:
        data = _json(body)
    except ValueError:
        return Rejected(400, "body is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("sign"), str):
        return Rejected(401, "no sign field")
    received = data.pop("sign")
    if not any(
        same(received, hmac_hex(key.encode(), b64(text.encode()).encode(), "sha256"))
        for text in _encodings(data)
    ):
        return Rejected(401, "bad sign")
    ref = _text(data.get("uuid"))
    if ref is None:
        return Rejected(400, "no uuid")
    return Event(
        "2328io",
        ref,
        map_status(P2328_STATUSES, _text(data.get("status"))),
        _text(data.get("txid")),
        message=_text(data.get("error_type")),
    )


def digest(body: bytes) -> str:
    """A stable id for a delivery without an event id, so exact replays are recognised."""
    return hashlib.sha256(body).hexdigest()
