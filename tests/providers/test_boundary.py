from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable

import httpx
import pytest

from batchpay.providers.boundary import Failure, Reply, exchange, parse_retry_after


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), base_url="https://p.test")


def _all_httpx_errors() -> list[type[Exception]]:
    return sorted(
        (
            c
            for _, c in inspect.getmembers(httpx, inspect.isclass)
            if issubclass(c, Exception) and c.__module__.startswith("httpx")
        ),
        key=lambda c: c.__name__,
    )


def _instance(cls: type[Exception], request: httpx.Request) -> Exception:
    if cls is httpx.HTTPStatusError:
        return cls("boom", request=request, response=httpx.Response(500, request=request))
    try:
        return cls("boom", request=request)  # type: ignore[call-arg]
    except TypeError:
        return cls("boom")


@pytest.mark.parametrize(
    "cls", [*_all_httpx_errors(), RuntimeError, ValueError, OSError], ids=lambda c: c.__name__
)
def test_no_exception_escapes_the_boundary(cls: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise _instance(cls, request)

    with _client(handler) as client:
        result = exchange(client, client.build_request("POST", "/payout"))
    assert isinstance(result, Failure)
    assert result.code and result.message


@pytest.mark.parametrize(
    ("cls", "sent", "code"),
    [
        (httpx.ConnectError, False, "connect_error"),
        (httpx.ConnectTimeout, False, "connect_timeout"),
        (httpx.PoolTimeout, False, "pool_timeout"),
        (httpx.ReadTimeout, True, "read_timeout"),
        (httpx.RemoteProtocolError, True, "protocol_error"),
        (httpx.ReadError, True, "read_error"),
        (httpx.WriteTimeout, True, "write_timeout"),
    ],
)
def test_only_failures_before_connecting_count_as_not_sent(
    cls: type[Exception], sent: bool, code: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise cls("boom", request=request)  # type: ignore[call-arg]

    with _client(handler) as client:
        result = exchange(client, client.build_request("POST", "/payout"))
    assert result == Failure(sent, code, f"{cls.__name__}: boom")


def test_replies_carry_json_or_none_and_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(200, json={"ok": True}),
            httpx.Response(429, headers={"Retry-After": "7"}, text="slow down"),
            httpx.Response(200, text="{not json"),
        ]
    )
    with _client(lambda request: next(answers)) as client:
        ok, limited, broken = (exchange(client, client.build_request("GET", "/")) for _ in range(3))
    assert isinstance(ok, Reply) and ok.data == {"ok": True} and ok.json_ok
    assert isinstance(limited, Reply) and limited.retry_after == 7.0 and limited.data is None
    assert isinstance(broken, Reply) and broken.status_code == 200 and not broken.json_ok


def test_retry_after_as_seconds_or_http_date() -> None:
    now = dt.datetime(2026, 11, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Sun, 01 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sun, 01 Nov 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
