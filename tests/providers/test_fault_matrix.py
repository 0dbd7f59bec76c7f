"""Every adapter against every way a create request can go wrong, with the ledger state each
must lead to, after the run and after the resume that settles it. The invariant throughout:
the provider never holds more than one payout for the row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from batchpay.config import load_settings
from batchpay.emulator import Emulator
from batchpay.ledger import Ledger
from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import make_plan
from batchpay.providers import open_provider
from batchpay.send import Engine, RetryPolicy
from tests.conftest import TRON

PROVIDERS = ["oxapay", "thedex", "pontis", "2328io"]
KEYED = {"pontis", "2328io"}  # deduplicate by key: a resend with the same key is safe
CREATE_PATHS = (
    "/oxapay/v1/payout",
    "/thedex/api/v1/payouts/create",
    "/pontis/api/v1/payouts/sendPayoutRequest",
    "/2328io/api/v1/payout",
)
Action = Callable[[httpx.Request, httpx.MockTransport], httpx.Response]


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Action:
    def act(request: httpx.Request, inner: httpx.MockTransport) -> httpx.Response:
        if body is None:
            return httpx.Response(status, headers=headers)
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return act


def raise_before(exc: type[Exception]) -> Action:
    def act(request: httpx.Request, inner: httpx.MockTransport) -> httpx.Response:
        raise exc("injected", request=request)  # type: ignore[call-arg]

    return act


def after(
    exc: type[Exception] | None = None, status: int | None = None, text: str | None = None
) -> Action:
    """Let the emulation create the payout, then lose or spoil the answer."""

    def act(request: httpx.Request, inner: httpx.MockTransport) -> httpx.Response:
        response = inner.handle_request(request)
        if exc is not None:
            raise exc("injected after the payout was created", request=request)  # type: ignore[call-arg]
        return httpx.Response(status or response.status_code, text=text or "")

    return act


class Scripted(httpx.BaseTransport):
    def __init__(self, inner: httpx.MockTransport, script: list[Action]) -> None:
        self.inner = inner
        self.script = script

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path in CREATE_PATHS and self.script:
            return self.script.pop(0)(request, self.inner)
        return self.inner.handle_request(request)


def respond_429_http_date(request: httpx.Request, inner: httpx.MockTransport) -> httpx.Response:
    """Retry-After as an HTTP date a minute ahead, computed when the request arrives (far
    enough that no delay before the client reads it matters; the test never really sleeps)."""
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
    return httpx.Response(429, headers={"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")})


OXA_400 = {
    "data": {},
    "message": "The address field is invalid.",
    "error": {"type": "validation", "key": "address", "message": "invalid"},
    "status": 400,
    "version": "1.0.0",
}
DEX_422_BALANCE = {"errors": {"balance": "Not enough balance"}, "status": 6}
DEX_422_ADDRESS = {"errors": {"address": "The wallet address is invalid"}, "status": 6}
DEX_422_MIN = {
    "error": "Unprocessable Entity",
    "status": 422,
    "timestamp": "2026-01-01 00:00:00",
    "message": "Withdrawal amount 1 is below the minimum limit of 5 USDT.",
}
DEX_422_CHAIN = {
    "error": "Internal Server Error",
    "status": 422,
    "timestamp": "2026-01-01 00:00:00",
    "message": "Cannot create payout",
}


def _pontis(code: str) -> dict[str, Any]:
    return {"ok": False, "request_id": "01J9", "error": {"code": code, "message": code}}


P, F, U, PL = RowStatus.PENDING, RowStatus.FAILED, RowStatus.UNKNOWN, RowStatus.PLANNED

# case id -> (action, {provider: (status after run, after resume, payouts at the end)})
# "*" is every provider; "nokey" the two without an idempotency key.
CASES: dict[str, tuple[Action, dict[str, tuple[RowStatus, RowStatus, int]]]] = {
    "200": (lambda r, inner: inner.handle_request(r), {"*": (P, P, 1)}),
    "400": (respond(400, OXA_400), {"*": (F, F, 0)}),
    "401": (respond(401, {"message": "unauthorized"}), {"*": (PL, P, 1)}),
    "403": (respond(403), {"*": (PL, P, 1)}),
    "409": (respond(409, {"state": 1, "error": "conflict"}), {"*": (F, F, 0)}),
    "429-seconds": (respond(429, {"error": "slow down"}, {"Retry-After": "2"}), {"*": (P, P, 1)}),
    "429-http-date": (respond_429_http_date, {"*": (P, P, 1)}),
    "500": (respond(500, "oops"), {"nokey": (U, P, 1), "keyed": (P, P, 1)}),
    "502": (respond(502, "bad gateway"), {"nokey": (U, P, 1), "keyed": (P, P, 1)}),
    "503": (respond(503), {"nokey": (U, P, 1), "keyed": (P, P, 1)}),
    "504": (respond(504), {"nokey": (U, P, 1), "keyed": (P, P, 1)}),
    "500-after-create": (after(status=500, text="oops"), {"nokey": (U, P, 1), "keyed": (P, P, 1)}),
    "connection-refused": (raise_before(httpx.ConnectError), {"*": (P, P, 1)}),
    "connect-timeout": (raise_before(httpx.ConnectTimeout), {"*": (P, P, 1)}),
    "read-timeout": (after(httpx.ReadTimeout), {"nokey": (U, P, 1), "keyed": (P, P, 1)}),
    "reset-mid-body": (after(httpx.RemoteProtocolError), {"nokey": (U, P, 1), "keyed": (P, P, 1)}),
    "200-invalid-json": (
        after(status=200, text="<html>hiccup</html>"),
        {"nokey": (U, P, 1), "keyed": (P, P, 1)},
    ),
}
PROVIDER_422 = {
    "thedex-422-balance": ("thedex", respond(422, DEX_422_BALANCE), (F, F, 0)),
    "thedex-422-address": ("thedex", respond(422, DEX_422_ADDRESS), (F, F, 0)),
    "thedex-422-minimum": ("thedex", respond(422, DEX_422_MIN), (F, F, 0)),
    "thedex-422-cannot-create": ("thedex", respond(422, DEX_422_CHAIN), (U, P, 1)),
    "pontis-422-insufficient": ("pontis", respond(422, _pontis("insufficient_funds")), (F, F, 0)),
    "pontis-422-daily-limit": ("pontis", respond(422, _pontis("daily_limit_exceeded")), (F, F, 0)),
    "pontis-422-screening": ("pontis", respond(422, _pontis("screening_failed")), (F, F, 0)),
    "pontis-422-rate-moved": ("pontis", respond(422, _pontis("rate_moved")), (P, P, 1)),
    "oxapay-422": ("oxapay", respond(422, OXA_400), (F, F, 0)),
    "2328io-422": ("2328io", respond(422, {"state": 1, "error": "amount invalid"}), (F, F, 0)),
}


def _expected(
    table: dict[str, tuple[RowStatus, RowStatus, int]], provider: str
) -> tuple[RowStatus, RowStatus, int]:
    group = "keyed" if provider in KEYED else "nokey"
    return table.get(provider) or table.get(group) or table["*"]


def _row(provider: str) -> PayoutRow:
    if provider == "pontis":
        extra = {
            "country_code": "IN",
            "payout_currency": "INR",
            "payment_method": "imps",
            "recipient_name": "Ravi",
            "recipient.account_number": "001",
        }
        return PayoutRow(
            2, "E-1", Decimal("10.00"), Decimal("10.00"), Decimal(0), "USDT", extra=extra
        )
    return PayoutRow(
        2, "E-1", Decimal("10.5"), Decimal("10.5"), Decimal(0), "USDT", "TRON", TRON[0]
    )


def _run(
    tmp_path: Path, provider: str, action: Action
) -> tuple[RowStatus, RowStatus, int, list[float]]:
    emulator = Emulator()
    settings = load_settings({"grace_seconds": {provider: 0}}, environ=emulator.env(), cwd=tmp_path)
    # real time, as in use: a lookup searches around the time the ledger says it sent
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.save_plan(
        make_plan("b", provider, "s.csv", "", [_row(provider)]),
        sandbox=False,
        rounding="down",
        fee_option="deduct",
    )
    sleeps: list[float] = []
    scripted = Scripted(emulator.transport(), [action])

    def engine(transport: httpx.BaseTransport) -> Engine:
        return Engine(
            ledger=ledger,
            provider=open_provider(provider, settings, transport=transport),
            batch="b",
            retry=RetryPolicy(max_tries=3),
            sleep=sleeps.append,
        )

    first = engine(scripted)
    first.settle()
    first.send_planned()
    after_run = ledger.rows("b")[0].status
    second = engine(emulator.transport())  # the resume: `batchpay run` again
    second.settle()
    second.send_planned()
    after_resume = ledger.rows("b")[0].status
    return after_run, after_resume, emulator[provider].count(), sleeps


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("case", list(CASES))
def test_fault_matrix(tmp_path: Path, provider: str, case: str) -> None:
    action, table = CASES[case]
    run, resume, payouts, sleeps = _run(tmp_path, provider, action)
    assert (run, resume, payouts) == _expected(table, provider)
    if case == "429-seconds":
        assert 2.0 in sleeps
    if case == "429-http-date":
        assert 30.0 < max(sleeps) <= 60.0


@pytest.mark.parametrize("case", list(PROVIDER_422))
def test_provider_specific_422_shapes(tmp_path: Path, case: str) -> None:
    provider, action, expected = PROVIDER_422[case]
    run, resume, payouts, _ = _run(tmp_path, provider, action)
    assert (run, resume, payouts) == expected
