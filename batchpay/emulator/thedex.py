"""TheDex: every call a signed POST (base64 payload + HMAC-SHA512), numeric statuses,
*no* idempotency."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from batchpay.emulator.base import EmuProvider
from batchpay.emulator.core import EmuRequest, EmuResponse, json_response
from batchpay.emulator.signing import equal, thedex_headers

# Decimal places per payCurrency (TheDex's published precision table).
SCALES = {
    "BTC_BITCOIN": 8,
    "ETH_ETHEREUM": 18,
    "USDT_ETHEREUM": 6,
    "USDC_ETHEREUM": 6,
    "DAI_ETHEREUM": 18,
    "LTC_LITECOIN": 8,
    "TRX_TRON": 6,
    "USDT_TRON": 6,
    "XRP_RIPPLE": 6,
    "TON_TON": 9,
    "USDT_TON": 6,
    "DOGE_DOGECOIN": 8,
    "POL_POLYGON": 18,
    "USDT_POLYGON": 6,
    "USDC_POLYGON": 6,
    "USDT_BSC": 18,
    "USDC_BSC": 18,
    "BNB_BSC": 18,
    "SOL_SOLANA": 9,
    "USDT_SOLANA": 6,
    "USDC_SOLANA": 6,
    "ETH_BASE": 18,
    "USDC_BASE": 6,
    "USDT_ARBITRUM": 6,
    "USDC_ARBITRUM": 6,
    "ETH_ARBITRUM": 18,
    "ARB_ARBITRUM": 18,
    "USDT_OPTIMISM": 6,
    "USDC_OPTIMISM": 6,
    "ETH_OPTIMISM": 18,
    "OP_OPTIMISM": 18,
}
STATUS_NAMES = {0: "Waiting", 1: "Successful", 2: "Rejected", 3: "Processing"}


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _plain(status: int, error: str, message: str) -> EmuResponse:
    return json_response(
        status, {"error": error, "status": status, "timestamp": _stamp(), "message": message}
    )


def _field_errors(errors: dict[str, str]) -> EmuResponse:
    return json_response(422, {"errors": errors, "status": 6})


class EmuTheDex(EmuProvider):
    name = "thedex"
    balance = Decimal("1000000")

    def route(self, request: EmuRequest) -> tuple[str, Callable[[EmuRequest], EmuResponse]]:
        routes = {
            "/api/v1/payouts/create": ("create", self._create),
            "/api/v1/payouts/one": ("lookup", self._one),
            "/api/v1/payouts": ("list", self._list),
        }
        if request.method == "POST" and request.path in routes:
            op, handler = routes[request.path]
            return op, self._guard(handler)
        return "other", lambda r: _plain(404, "Not Found", "not found")

    def _guard(
        self, handler: Callable[[dict[str, Any]], EmuResponse]
    ) -> Callable[[EmuRequest], EmuResponse]:
        def checked(request: EmuRequest) -> EmuResponse:
            if not request.body:
                return EmuResponse(403)
            h = request.headers
            want = thedex_headers(self.keys.thedex_key, self.keys.thedex_secret, request.body)
            if (
                h.get("x-ex-apikey") != want["x-ex-apikey"]
                or h.get("x-ex-payload") != want["x-ex-payload"]
                or not equal(h.get("x-ex-signature", ""), want["x-ex-signature"])
            ):
                return _plain(401, "Unauthorized", "Request is not authorized")
            try:
                data = json.loads(request.body, parse_float=Decimal)
            except ValueError:
                return _plain(400, "Bad Request", "malformed JSON")
            return handler(data)

        return checked

    def _create(self, data: dict[str, Any]) -> EmuResponse:
        amount = data.get("amountInPayCurrency")
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
            return _plain(400, "Bad Request", "amountInPayCurrency: must not be null. ")
        pay_currency = data.get("payCurrency")
        if pay_currency not in SCALES:
            return _plain(400, "Bad Request", "payCurrency: unknown")
        amount = Decimal(amount)
        places = max(0, -int(amount.as_tuple().exponent))
        if places > SCALES[pay_currency]:
            return _field_errors(
                {
                    "amountInPayCurrency": f"Max decimal scale for payCurrency "
                    f"{pay_currency} is {SCALES[pay_currency]}"
                }
            )
        if amount < Decimal("0.000001"):
            return _plain(
                422,
                "Unprocessable Entity",
                f"Withdrawal amount {amount} is below the minimum limit",
            )
        if not isinstance(data.get("address"), str) or len(data["address"]) < 20:
            return _field_errors({"address": "The wallet address is invalid"})
        if len(str(data.get("description", ""))) > 300:
            return _plain(400, "Bad Request", "description: size must be at most 300")
        with self.lock:
            if amount > self.balance:
                return _field_errors({"balance": "Not enough balance to create payout"})
            payout = self.record(
                pay_currency,
                amount,
                data["address"],
                memo=data.get("memo"),
                description=data.get("description", ""),
            )
            self.payouts.append(payout)
            return json_response(200, _public(payout))

    def _one(self, data: dict[str, Any]) -> EmuResponse:
        with self.lock:
            for payout in self.payouts:
                if payout["id"] == data.get("payoutId"):
                    self.advance(payout)
                    return json_response(200, _public(payout))
        return _plain(400, "Bad Request", "payout not found")

    def record(
        self,
        pay_currency: str,
        amount: Decimal,
        address: str,
        *,
        memo: object = None,
        description: str = "",
        created_ms: int | None = None,
    ) -> dict[str, Any]:
        """A payout as the book keeps it (``created_ms``: unix milliseconds, now if None)."""
        ms = int(self.clock() * 1000) if created_ms is None else created_ms
        stamp = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()  # float-ok: a date
        return {
            "id": f"dex-{self.next_id():08d}",
            "status": 0,
            "statusName": STATUS_NAMES[0],
            "payCurrency": pay_currency,
            "address": address,
            "memo": memo,
            "createDate": stamp,
            "modifiedDate": stamp,
            "transactionId": None,
            "withdrawalAmount": str(amount),
            "transferAmount": str(amount),
            "blockchainFee": "0.1",
            "isApiCalled": True,
            "description": description,
            "_created_ms": ms,
        }

    def _list(self, data: dict[str, Any]) -> EmuResponse:
        """The payouts created between ``from`` and ``to`` (unix ms): one array, as the
        list is documented, with no paging."""
        start, end = data.get("from"), data.get("to")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            return _plain(400, "Bad Request", "from, to: must be numbers of milliseconds")
        with self.lock:
            return json_response(
                200, [_public(p) for p in self.payouts if start <= p["_created_ms"] <= end]
            )

    def advance(self, payout: dict[str, Any]) -> None:
        if payout["status"] == 0:
            payout["status"], payout["statusName"] = 1, STATUS_NAMES[1]
            payout["transactionId"] = f"{payout['_created_ms']:064x}"


def _public(payout: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payout.items() if not k.startswith("_")}
