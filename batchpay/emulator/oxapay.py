"""OxaPay v1: payout_api_key header, amounts as JSON numbers, *no* idempotency."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from batchpay.emulator.base import EmuProvider
from batchpay.emulator.core import EmuRequest, EmuResponse, json_response

_ONE = re.compile(r"/payout/([0-9]+)")


def _envelope(
    status: int, data: Any, message: str, error: dict[str, str] | None = None
) -> EmuResponse:
    return json_response(
        status,
        {
            "data": data,
            "message": message,
            "error": error or {},
            "status": status,
            "version": "1.0.0",
        },
    )


def _filters(q: dict[str, str]) -> list[Callable[[dict[str, Any]], bool]]:
    """One test per filter given; a bound that does not parse raises ValueError."""

    def equal(field: str, value: str) -> Callable[[dict[str, Any]], bool]:
        return lambda p: bool(p[field] == value)

    def within(
        field: str, low: Decimal | int, high: Decimal | int
    ) -> Callable[[dict[str, Any]], bool]:
        return lambda p: bool(low <= p[field] <= high)

    tests = [equal(name, q[name]) for name in ("currency", "network", "status") if name in q]
    amounts = [
        Decimal(q.get(name, default))
        for name, default in (("from_amount", "-Infinity"), ("to_amount", "Infinity"))
    ]
    if any(a.is_nan() for a in amounts):
        raise ValueError("amount")
    if "from_amount" in q or "to_amount" in q:
        tests.append(within("amount", amounts[0], amounts[1]))
    if "from_date" in q or "to_date" in q:
        tests.append(
            within("date", int(q.get("from_date", -(2**62))), int(q.get("to_date", 2**62)))
        )
    return tests


def _error(status: int, key: str, message: str) -> EmuResponse:
    return _envelope(status, {}, message, {"type": "validation", "key": key, "message": message})


class EmuOxaPay(EmuProvider):
    name = "oxapay"

    def route(self, request: EmuRequest) -> tuple[str, Callable[[EmuRequest], EmuResponse]]:
        if request.method == "POST" and request.path == "/payout":
            return "create", self._guard(self._create)
        if request.method == "GET" and request.path == "/payout":
            return "list", self._guard(self._history)
        if request.method == "GET" and _ONE.fullmatch(request.path):
            return "lookup", self._guard(self._one)
        if request.method == "GET" and request.path == "/general/account/balance":
            return "balance", self._balance
        return "other", lambda r: _error(404, "path", "not found")

    def _guard(
        self, handler: Callable[[EmuRequest], EmuResponse]
    ) -> Callable[[EmuRequest], EmuResponse]:
        def checked(request: EmuRequest) -> EmuResponse:
            if request.headers.get("payout_api_key") != self.keys.oxapay_key:
                return _envelope(
                    401,
                    {},
                    "Invalid payout api key",
                    {
                        "type": "authentication",
                        "key": "payout_api_key",
                        "message": "Invalid payout api key",
                    },
                )
            return handler(request)

        return checked

    def _create(self, request: EmuRequest) -> EmuResponse:
        try:
            data = json.loads(request.body, parse_float=Decimal)
        except ValueError:
            return _error(400, "body", "invalid json")
        for field in ("address", "currency"):
            if not isinstance(data.get(field), str) or not data[field]:
                return _error(400, field, f"The {field} field is required.")
        amount = data.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
            return _error(400, "amount", "The amount must be a number.")
        if amount <= 0:
            return _error(400, "amount", "The amount must be greater than 0.")
        payout = self.record(
            data["address"],
            data["currency"],
            Decimal(amount),
            network=data.get("network", ""),
            description=data.get("description", ""),
            memo=data.get("memo", ""),
        )
        self.preload([payout])
        return _envelope(
            200,
            {"track_id": payout["track_id"], "status": "processing"},
            "Operation completed successfully!",
        )

    def _balance(self, request: EmuRequest) -> EmuResponse:
        """Account Balance: the General API key, ``currency`` to ask for one."""
        if request.headers.get("general_api_key") != self.keys.oxapay_general_key:
            return _envelope(
                401,
                {},
                "Invalid general api key",
                {"type": "authentication", "key": "general_api_key", "message": "Invalid key"},
            )
        held = self.available()
        if "currency" in request.query:
            held = {k: v for k, v in held.items() if k == request.query["currency"]}
        return _envelope(200, held, "Operation completed successfully!")

    def spent(self, payout: dict[str, Any]) -> Decimal:
        return Decimal(0) if payout["status"] in ("rejected", "canceled") else payout["amount"]

    def _one(self, request: EmuRequest) -> EmuResponse:
        match = _ONE.fullmatch(request.path)
        assert match is not None
        with self.lock:
            for payout in self.payouts:
                if payout["track_id"] == match.group(1):
                    self.advance(payout)
                    return _envelope(200, dict(payout), "Operation completed successfully!")
        return _error(404, "track_id", "Payout not found")

    def record(
        self,
        address: str,
        currency: str,
        amount: Decimal,
        *,
        network: str = "",
        description: str = "",
        memo: str = "",
        date: int | None = None,
    ) -> dict[str, Any]:
        """A payout as the book keeps it (``date``: unix seconds, now if None)."""
        return {
            "track_id": str(258000000 + self.next_id()),
            "address": address,
            "currency": currency,
            "network": network,
            "amount": amount,
            "fee": Decimal("0.5"),
            "status": "processing",
            "tx_hash": "",
            "description": description,
            "internal": False,
            "memo": memo,
            "date": int(self.clock()) if date is None else date,
        }

    def _history(self, request: EmuRequest) -> EmuResponse:
        """Payout History: every filter the API documents, ``size`` 1..200, pages of it in
        the book's order, and meta {page, last_page, total} as a paginator counts them."""
        q = request.query
        try:
            size, page = int(q.get("size", "20")), int(q.get("page", "1"))
            tests = _filters(q)
        except (ValueError, ArithmeticError):
            return _error(400, "filter", "The filters must be valid numbers.")
        if not 1 <= size <= 200 or page < 1:
            return _error(400, "size", "The size must be between 1 and 200.")
        with self.lock:
            found = [p for p in self.payouts if all(test(p) for test in tests)]
            chosen = [dict(p) for p in found[(page - 1) * size : page * size]]
        return _envelope(
            200,
            {
                "list": chosen,
                "meta": {
                    "page": page,
                    "last_page": max(1, -(-len(found) // size)),
                    "total": len(found),
                },
            },
            "Operation completed successfully!",
        )

    def advance(self, payout: dict[str, Any]) -> None:
        if payout["status"] == "processing":
            payout["status"] = "confirmed"
            payout["tx_hash"] = f"{int(payout['track_id']):064x}"
