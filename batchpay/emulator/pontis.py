"""PontisGlobe: AES-256-GCM bodies, HMAC-SHA256 signature with a timestamp window, JWT login,
idempotency_key, and the sandbox rule that the cents of source_amount decide the outcome (only
for a source_amount written with exactly two decimals ending .01 to .04, as the in-process
sandbox does; the rule is written here again, apart from the sandbox's)."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from batchpay.emulator.base import EmuProvider
from batchpay.emulator.core import EmuRequest, EmuResponse, json_response
from batchpay.emulator.signing import equal, pontis_key, pontis_open, pontis_signature

DRIFT_SECONDS = 300
TOKEN_SECONDS = 900
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
# cents -> (final status, message)
OUTCOMES = {
    1: ("failed", "Insufficient funds"),
    2: ("failed", "Recipient not found"),
    3: ("pending", None),
    4: ("failed", "Network error"),
}


def _error(status: int, code: str, message: str) -> EmuResponse:
    return json_response(
        status,
        {"ok": False, "request_id": uuid.uuid4().hex, "error": {"code": code, "message": message}},
    )


class EmuPontis(EmuProvider):
    name = "pontis"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens: dict[str, float] = {}  # float-ok: token -> expiry (unix seconds)
        self.logins = 0

    @property
    def enc_key(self) -> bytes:
        return pontis_key(self.keys.pontis_encryption_secret)

    def route(self, request: EmuRequest) -> tuple[str, Callable[[EmuRequest], EmuResponse]]:
        routes: dict[str, tuple[str, Callable[[dict[str, Any]], EmuResponse], bool]] = {
            "/api/v1/user/login": ("login", self._login, False),
            "/api/v1/payouts/sendPayoutRequest": ("create", self._create, True),
            "/api/v1/payouts/getPayoutStatus": ("lookup", self._status, True),
        }
        if request.method == "POST" and request.path in routes:
            op, handler, needs_token = routes[request.path]
            return op, self._guard(handler, needs_token)
        return "other", lambda r: _error(404, "not_found", "no such route")

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    def _guard(
        self, handler: Callable[[dict[str, Any]], EmuResponse], needs_token: bool
    ) -> Callable[[EmuRequest], EmuResponse]:
        def checked(request: EmuRequest) -> EmuResponse:
            h = request.headers
            if h.get("x-api-key") != self.keys.pontis_api_key:
                return _error(401, "unauthorized", "bad api key")
            if needs_token:
                token = h.get("authorization", "").removeprefix("Bearer ").strip()
                with self.lock:
                    expiry = self.tokens.get(token)
                if expiry is None:
                    return _error(401, "unauthorized", "missing or unknown token")
                if expiry <= self.clock():
                    return _error(401, "jwt_expired", "token expired")
            try:
                blob = json.loads(request.body)["data"]
                timestamp = h.get("x-timestamp", "")
                if abs(int(timestamp) - self.clock()) > DRIFT_SECONDS:
                    return _error(401, "unauthorized", "timestamp outside the allowed window")
                hmac_key = pontis_key(self.keys.pontis_hmac_secret)
                if not equal(h.get("x-signature", ""), pontis_signature(hmac_key, timestamp, blob)):
                    return _error(401, "unauthorized", "bad signature")
                payload = json.loads(pontis_open(blob, self.enc_key))
            except (ValueError, KeyError, TypeError):
                return _error(400, "validation_error", "body is not a valid encrypted envelope")
            return handler(payload)

        return checked

    def _login(self, payload: dict[str, Any]) -> EmuResponse:
        if (payload.get("email"), payload.get("password")) != (
            self.keys.pontis_email,
            self.keys.pontis_password,
        ):
            return _error(401, "unauthorized", "wrong email or password")
        token = "eyJ" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = self.clock() + TOKEN_SECONDS
            self.logins += 1
        return json_response(
            200,
            {
                "ok": True,
                "data": {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": TOKEN_SECONDS,
                },
            },
        )

    def _create(self, payload: dict[str, Any]) -> EmuResponse:
        problem = _invalid(payload)
        if problem:
            return _error(400, "validation_error", problem)
        with self.lock:
            for payout in self.payouts:
                if payout["idempotency_key"] == payload["idempotency_key"]:
                    return json_response(201, {"ok": True, "data": _public(payout)})
            amount = Decimal(payload["source_amount"])
            status = "pending_approval" if amount >= Decimal("100000") else "pending"
            payout = {
                "transaction_id": str(uuid.uuid4()),
                "status": status,
                "status_message": None,
                "idempotency_key": payload["idempotency_key"],
                "source_amount": payload["source_amount"],
                "name": payload["recipient_details"]["name"],
            }
            self.payouts.append(payout)
            return json_response(201, {"ok": True, "data": _public(payout)})

    def _status(self, payload: dict[str, Any]) -> EmuResponse:
        with self.lock:
            for payout in self.payouts:
                if payout["transaction_id"] == payload.get("transaction_id"):
                    self.advance(payout)
                    data = {k: payout[k] for k in ("transaction_id", "status", "status_message")}
                    return json_response(200, {"ok": True, "data": data})
        return _error(404, "not_found", "no such transaction")

    def advance(self, payout: dict[str, Any]) -> None:
        if payout["status"] not in ("pending", "pending_approval", "processing"):
            return
        cents = _sandbox_cents(Decimal(payout["source_amount"]))
        status, message = OUTCOMES.get(cents or 0, ("completed", None))
        payout["status"], payout["status_message"] = status, message


def _sandbox_cents(amount: Decimal) -> int | None:
    """The cents of an amount written with exactly two decimals, if they are 1 to 4."""
    sign, digits, exponent = amount.as_tuple()
    if exponent != -2 or sign:
        return None
    cents = int("".join(map(str, digits[-2:])))
    return cents if cents in OUTCOMES else None


def _invalid(payload: dict[str, Any]) -> str | None:
    if not isinstance(payload.get("idempotency_key"), str) or not _UUID4.fullmatch(
        payload["idempotency_key"]
    ):
        return "idempotency_key must be a UUID v4"
    for field in ("country_code", "currency_code", "payment_method", "source_amount"):
        if not isinstance(payload.get(field), str) or not payload[field]:
            return f"{field} is required"
    try:
        if Decimal(payload["source_amount"]) <= 0:
            return "source_amount must be positive"
    except InvalidOperation:
        return "source_amount must be a decimal string"
    recipient = payload.get("recipient_details")
    if not isinstance(recipient, dict) or not recipient.get("name"):
        return "recipient_details.name is required"
    return None


def _public(payout: dict[str, Any]) -> dict[str, Any]:
    return {"transaction_id": payout["transaction_id"], "status": payout["status"]}
