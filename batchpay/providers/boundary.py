"""The boundary with the network: every httpx outcome becomes a :class:`Reply` or a
:class:`Failure` value. Nothing from httpx (or anything else) escapes :func:`exchange`.

The distinction that matters for money: a failure *before the connection was established*
means the provider never saw the request (``not_sent``); anything after that might have created
a payout and is ``unknown`` until a lookup says otherwise.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    body: bytes
    data: Any  # parsed JSON, or None when the body is not JSON
    retry_after: float | None  # float-ok: seconds
    headers: Mapping[str, str]

    @property
    def json_ok(self) -> bool:
        return self.data is not None


@dataclass(frozen=True, slots=True)
class Failure:
    sent: bool  # False: provably never reached the provider
    code: str  # connect_error | connect_timeout | pool_timeout | read_timeout | ...
    message: str


_NOT_SENT: tuple[tuple[type[Exception], str], ...] = (
    (httpx.ConnectTimeout, "connect_timeout"),
    (httpx.ConnectError, "connect_error"),
    (httpx.PoolTimeout, "pool_timeout"),
    (httpx.UnsupportedProtocol, "bad_url"),
    (httpx.InvalidURL, "bad_url"),
)
_MAYBE_SENT: tuple[tuple[type[Exception], str], ...] = (
    (httpx.ReadTimeout, "read_timeout"),
    (httpx.WriteTimeout, "write_timeout"),
    (httpx.TimeoutException, "timeout"),
    (httpx.RemoteProtocolError, "protocol_error"),
    (httpx.ReadError, "read_error"),
    (httpx.WriteError, "write_error"),
    (httpx.NetworkError, "network_error"),
    (httpx.HTTPError, "http_error"),
)


def exchange(client: httpx.Client, request: httpx.Request) -> Reply | Failure:
    try:
        response = client.send(request)
        body = response.read()
    except Exception as exc:  # the boundary: every foreign error becomes a value
        return classify(exc)
    return Reply(
        status_code=response.status_code,
        body=body,
        data=_parse_json(body),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        headers=dict(response.headers),
    )


def classify(exc: BaseException) -> Failure:
    for kind, code in _NOT_SENT:
        if isinstance(exc, kind):
            return Failure(False, code, _describe(exc))
    for kind, code in _MAYBE_SENT:
        if isinstance(exc, kind):
            return Failure(True, code, _describe(exc))
    return Failure(True, "unexpected", type(exc).__name__)


def _describe(exc: BaseException) -> str:
    # Only the exception type and its text: httpx messages do not carry headers or bodies.
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body, parse_float=Decimal)  # amounts stay exact
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested past Python's stack
        return None


def parse_retry_after(
    value: str | None, now: dt.datetime | None = None
) -> float | None:  # float-ok
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))  # float-ok: seconds
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())
