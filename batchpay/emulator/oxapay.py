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
        with self.lock:
            payout = {
                "track_id": str(258000000 + self.next_id()),
                "address": data["address"],
                "currency": data["currency"],
                "network": data.get("network", ""),
                "amount": Decimal(amount),
                "fee": Decimal("0.5"),
                "status": "processing",
                "tx_hash": "",
                "description": data.get("description", ""),
                "internal": False,
                "memo": data.get("memo", ""),
                "date": int(self.clock()),
            }
            self.payouts.append(payout)
        return _envelope(
            200,
            {"track_id": payout["track_id"], "status": "processing"},
            "Operation completed successfully!",
        )

    def _one(self, request: EmuRequest) -> EmuResponse:
        match = _ONE.fullmatch(request.path)
        assert match is not None
        with self.lock:
            for payout in self.payouts:
                if payout["track_id"] == match.group(1):
                    self.advance(payout)
                    return _envelope(200, dict(payout), "Operation completed successfully!")
        return _error(404, "track_id", "Payout not found")

    def _history(self, request: EmuRequest) -> EmuResponse:
        q = request.query
        size = min(200, max(1, int(q.get("size", "20"))))
        page = max(1, int(q.get("page", "1")))

        def keep(p: dict[str, Any]) -> bool:
            checks = [
                "currency" not in q or p["currency"] == q["currency"],
                "network" not in q or p["network"] == q["network"],
                "from_amount" not in q or p["amount"] >= Decimal(q["from_amount"]),
                "to_amount" not in q or p["amount"] <= Decimal(q["to_amount"]),
                "from_date" not in q or p["date"] >= int(q["from_date"]),
                "to_date" not in q or p["date"] <= int(q["to_date"]),
                "status" not in q or p["status"] == q["status"],
            ]
            return all(checks)

        with self.lock:
            found = [dict(p) for p in self.payouts if keep(p)]
        last = max(1, -(-len(found) // size))
        return _envelope(
            200,
            {
                "list": found[(page - 1) * size : page * size],
                "meta": {"page": page, "last_page": last, "total": len(found)},
            },
            "Operation completed successfully!",
        )

    def advance(self, payout: dict[str, Any]) -> None:
        if payout["status"] == "processing":
            payout["status"] = "confirmed"
            payout["tx_hash"] = f"{int(payout['track_id']):064x}"
