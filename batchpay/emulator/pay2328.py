"""2328.io: project + HMAC-SHA256 over base64(body), order_id idempotency, amounts as strings."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from batchpay.emulator.base import EmuProvider
from batchpay.emulator.core import EmuRequest, EmuResponse, json_response
from batchpay.emulator.signing import equal, sign_2328

NETWORKS = {
    "TRX-TRC20",
    "BSC-BEP20",
    "ETH-ERC20",
    "AVAX-C",
    "POL-MATIC",
    "TON",
    "BTC",
    "LTC",
    "DASH",
    "SOL",
    "DOGE",
}
FEES = {"USDT": Decimal("1.5"), "USDC": Decimal("1.5"), "TRX": Decimal("1")}
_STATUS = re.compile(r"/v1/payout/status/([0-9a-f-]+)")


def _error(status: int, message: str) -> EmuResponse:
    return json_response(status, {"state": 1, "error": message})


class Emu2328(EmuProvider):
    name = "2328io"
    # the live API allows 10 requests per second per project; set ``rate_limit`` to emulate it

    def route(self, request: EmuRequest) -> tuple[str, Callable[[EmuRequest], EmuResponse]]:
        if request.method == "POST" and request.path == "/v1/payout":
            return "create", self._guard(self._create)
        if request.method == "POST" and request.path == "/v1/payout/calc":
            return "calc", self._guard(self._calc)
        if request.method == "GET" and _STATUS.fullmatch(request.path):
            return "lookup", self._guard(self._status)
        if request.method == "GET" and request.path == "/v1/balance":
            return "balance", self._guard(self._balance)
        return "other", lambda r: _error(404, "not found")

    def _guard(
        self, handler: Callable[[EmuRequest], EmuResponse]
    ) -> Callable[[EmuRequest], EmuResponse]:
        def checked(request: EmuRequest) -> EmuResponse:
            if not request.headers.get("user-agent", "").strip():
                return _error(400, "User-Agent header is required")
            expected = sign_2328(self.keys.key_2328, request.body)
            if request.headers.get("project") != self.keys.project_2328 or not equal(
                request.headers.get("sign", ""), expected
            ):
                return _error(401, "invalid sign")
            return handler(request)

        return checked

    def _parse(self, request: EmuRequest) -> dict[str, Any] | EmuResponse:
        try:
            data = json.loads(request.body)
        except ValueError:
            return _error(400, "invalid json")
        if not isinstance(data, dict):
            return _error(400, "invalid json")
        for field in ("currency", "network", "amount"):
            if not isinstance(data.get(field), str) or not data[field]:
                return _error(422, f"{field} is required and must be a string")
        if data["network"] not in NETWORKS:
            return _error(422, f"unknown network {data['network']}")
        try:
            amount = Decimal(data["amount"])
        except InvalidOperation:
            return _error(422, "amount is not a decimal")
        if amount <= 0:
            return _error(422, "amount must be positive")
        if data.get("fee_option", "deduct") not in ("deduct", "add"):
            return _error(422, "fee_option must be deduct or add")
        return data

    def _amounts(self, data: dict[str, Any]) -> dict[str, str]:
        amount = Decimal(data["amount"])
        fee = FEES.get(data["currency"], Decimal("0"))
        if data.get("fee_option", "deduct") == "add":
            merchant, network = amount + fee, amount
        else:
            merchant, network = amount, amount - fee
        return {
            "merchant_amount": str(merchant),
            "network_amount": str(network),
            "total_fee": str(fee),
        }

    def _create(self, request: EmuRequest) -> EmuResponse:
        data = self._parse(request)
        if isinstance(data, EmuResponse):
            return data
        if not isinstance(data.get("to_address"), str) or not data["to_address"]:
            return _error(422, "to_address is required")
        with self.lock:
            order_id = data.get("order_id")
            if order_id:
                for payout in self.payouts:
                    if payout["order_id"] == order_id:
                        return json_response(200, {"state": 0, "result": dict(payout)})
            payout = {
                "uuid": str(uuid.UUID(int=self.next_id(), version=4)),
                "order_id": order_id,
                "status": "pending",
                "currency": data["currency"],
                "network": data["network"],
                "amount": data["amount"],
                **{k: v for k, v in self._amounts(data).items() if k != "total_fee"},
                "to_address": data["to_address"],
                "memo": data.get("memo"),
                "txid": None,
                "error_type": None,
                "from_currency": data.get("from_currency"),
            }
            self.payouts.append(payout)
            return json_response(200, {"state": 0, "result": dict(payout)})

    def _balance(self, request: EmuRequest) -> EmuResponse:
        """The merchant accounts, one per currency, with what is available."""
        accounts = [
            {
                "uuid": str(uuid.UUID(int=n + 1, version=4)),
                "status": "active",
                "currency_code": currency,
                "balance": str(amount),
                "balance_usd": str(amount),
                "locked_balance": "0",
            }
            for n, (currency, amount) in enumerate(sorted(self.available().items()))
        ]
        return json_response(200, {"state": 0, "result": accounts})

    def spent(self, payout: dict[str, Any]) -> Decimal:
        if payout["status"] in ("failed", "cancelled"):
            return Decimal(0)
        return Decimal(payout["merchant_amount"])

    def _calc(self, request: EmuRequest) -> EmuResponse:
        data = self._parse(request)
        if isinstance(data, EmuResponse):
            return data
        result = {
            "currency": data["currency"],
            "network": data["network"],
            "amount": data["amount"],
            "fee_option": data.get("fee_option", "deduct"),
            **self._amounts(data),
        }
        return json_response(200, {"state": 0, "result": result})

    def _status(self, request: EmuRequest) -> EmuResponse:
        if request.body:
            return _error(400, "GET has no body")
        match = _STATUS.fullmatch(request.path)
        assert match is not None
        with self.lock:
            for payout in self.payouts:
                if payout["uuid"] == match.group(1):
                    self.advance(payout)
                    return json_response(200, {"state": 0, "result": dict(payout)})
        return _error(404, "payout not found")

    def advance(self, payout: dict[str, Any]) -> None:
        if payout["status"] == "pending":
            payout["status"] = "completed"
            payout["txid"] = "0x" + uuid.uuid5(uuid.NAMESPACE_URL, payout["uuid"]).hex * 2
