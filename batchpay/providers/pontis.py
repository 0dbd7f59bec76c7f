"""PontisGlobe adapter: fiat bank payouts funded in USDT. Every body is an AES-256-GCM
envelope, every request is signed over timestamp and blob, and a JWT from login authorises
all but login itself; ``jwt_expired`` means log in again and repeat once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from batchpay.config import Environment, Secret
from batchpay.keys import KeyForm
from batchpay.model import RowStatus
from batchpay.money import to_wire
from batchpay.providers import pontis_crypto
from batchpay.providers.auth import PontisAuth
from batchpay.providers.base import Answer, Disposition, PayoutRequest, Quote, map_status
from batchpay.providers.boundary import Failure, Reply
from batchpay.providers.callback import Event, Rejected, Verifier, field_text, read_json
from batchpay.providers.http import (
    HttpAdapter,
    payout_or_unknown,
    provider_message,
    response_view,
)
from batchpay.providers.opening import Opening
from batchpay.providers.wire import hmac_hex, secrets_equal
from batchpay.registry import ProviderEntry

STATUSES = {
    "pending_approval": RowStatus.PENDING,
    "pending": RowStatus.PENDING,
    "processing": RowStatus.PROCESSING,
    "completed": RowStatus.COMPLETED,
    "failed": RowStatus.FAILED,
    "rejected": RowStatus.FAILED,
    "reversed": RowStatus.NEEDS_REVIEW,
    "canceled": RowStatus.CANCELLED,
    "cancelled": RowStatus.CANCELLED,
}
OPERATOR_CODES = {"insufficient_funds", "daily_limit_exceeded", "monthly_limit_exceeded"}
RETRY_CODES = {"rate_moved"}
RECIPIENT_PREFIX = "recipient."
LOGIN_PATH = "/api/v1/user/login"


class PontisAdapter(HttpAdapter):
    name = "pontis"
    key_form = KeyForm.UUID
    dedupes_by_key = True
    grace_seconds = 0.0  # float-ok: seconds; the idempotency key makes a resend safe

    def __init__(
        self,
        api_key: Secret,
        encryption_secret: Secret,
        hmac_secret: Secret,
        email: Secret,
        password: Secret,
        base_url: str,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,  # float-ok: unix seconds
        **timeouts: float,  # float-ok: seconds
    ) -> None:  # float-ok
        super().__init__(base_url, transport=transport, **timeouts)
        self._auth = PontisAuth(
            api_key,
            Secret(encryption_secret.reveal()),
            Secret(hmac_secret.reveal()),
            email,
            password,
            self.base_url + LOGIN_PATH,
            clock,
        )
        self.client.auth = self._auth

    # -- the envelope -----------------------------------------------------------------------

    def _authorised(self, path: str, payload: Mapping[str, Any]) -> Reply | Failure | Answer:
        """POST ``payload``: :class:`PontisAuth` seals and signs it, logging in first if
        needed and once more on ``jwt_expired``. A log-in that fails or is refused is an
        Answer of its own (nothing was asked of the payout)."""
        problem = self._auth.key_problem()
        if problem is not None:
            return self.failure_answer(Failure(False, "bad_credentials", problem), None)
        self._auth.forget()
        reply = self.exchange(
            "POST",
            path,
            body=json.dumps(payload).encode(),
            headers={"content-type": "application/json"},
        )
        state = self._auth.state()
        if isinstance(reply, Failure) and state.in_login:
            return self.failure_answer(reply, None)
        if isinstance(reply, Reply) and state.refused:
            return Answer(
                RowStatus.PLANNED,
                Disposition.OPERATOR,
                http_status=reply.status_code,
                error_code="login_failed",
                error_message=f"PontisGlobe login refused: {provider_message(reply)}",
            )
        return reply

    # -- the interface ----------------------------------------------------------------------

    def payload(self, request: PayoutRequest) -> dict[str, Any]:
        extra = request.extra
        recipient = {"name": extra.get("recipient_name", request.name or "")}
        recipient |= {
            k[len(RECIPIENT_PREFIX) :]: v
            for k, v in extra.items()
            if k.startswith(RECIPIENT_PREFIX)
        }
        data: dict[str, Any] = {
            "idempotency_key": request.key,
            "country_code": extra.get("country_code"),
            "currency_code": extra.get("payout_currency"),
            "payment_method": extra.get("payment_method"),
            "source_amount": to_wire(request.amount),
            "source_currency": request.currency,
            "recipient_details": recipient,
        }
        for optional in ("payment_network", "purpose_of_payment", "source_of_funds"):
            if extra.get(optional):
                data[optional] = extra[optional]
        return data

    def create(self, request: PayoutRequest) -> Answer:
        payload = self.payload(request)
        reply = self._authorised("/api/v1/payouts/sendPayoutRequest", payload)
        return reply if isinstance(reply, Answer) else self.answer(reply, payload)

    def lookup(self, request: PayoutRequest, provider_ref: str | None) -> Answer | None:
        if not provider_ref:
            return None  # no search by key; a resend with the same idempotency_key is safe
        reply = self._authorised(
            "/api/v1/payouts/getPayoutStatus", {"transaction_id": provider_ref}
        )
        if isinstance(reply, Answer):  # login refused or failed: that tells nothing
            return payout_or_unknown(reply)
        if (
            isinstance(reply, Reply)
            and reply.status_code == 404
            and _error_code(reply) == "not_found"
        ):
            return None  # the provider's own "no such transaction"
        return payout_or_unknown(self.answer(reply, None))

    def quote(self, request: PayoutRequest) -> Quote | None:
        return None  # the quote endpoint's fields are unconfirmed

    def read_reply(self, reply: Reply, sent: Mapping[str, Any] | None) -> Answer:
        code = _error_code(reply)
        data = reply.data.get("data") if isinstance(reply.data, dict) else None
        view = response_view(reply)
        if (
            reply.status_code in (200, 201)
            and isinstance(data, dict)
            and data.get("transaction_id")
        ):
            status = map_status(STATUSES, data.get("status"))
            failed = status is RowStatus.FAILED
            message = data.get("status_message")
            return Answer(
                status=status,
                disposition=Disposition.FINAL if failed else Disposition.ACCEPTED,
                provider_ref=str(data["transaction_id"]),
                error_code=str(data.get("status"))
                if failed or status is RowStatus.NEEDS_REVIEW
                else None,
                error_message=str(message) if message else None,
                http_status=reply.status_code,
                request=sent,
                response=view,
            )
        message = provider_message(reply) or "request refused"
        if code in RETRY_CODES:
            return Answer(
                RowStatus.UNKNOWN,
                Disposition.RETRY,
                http_status=reply.status_code,
                error_code=code,
                error_message=message,
                request=sent,
                response=view,
            )
        disposition = Disposition.OPERATOR if code in OPERATOR_CODES else Disposition.FINAL
        return Answer(
            RowStatus.FAILED,
            disposition,
            http_status=reply.status_code,
            error_code=code or f"http_{reply.status_code}",
            error_message=message,
            request=sent,
            response=view,
        )


def _error_code(reply: Reply) -> str | None:
    data = reply.data
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        code = data["error"].get("code")
        return str(code) if code else None
    return None


CALLBACK_WINDOW_SECONDS = 300


def open_adapter(opening: Opening) -> PontisAdapter:
    return PontisAdapter(
        opening.secret("API_KEY"),
        opening.secret("ENCRYPTION_SECRET"),
        opening.secret("HMAC_SECRET"),
        opening.secret("EMAIL"),
        opening.secret("PASSWORD"),
        opening.base_url,
        **opening.http,
    )


def callback_verifier(entry: ProviderEntry, env: Environment) -> Verifier:
    hmac_secret = env.secret(entry.var("HMAC_SECRET"))
    return lambda h, b, now: verify_callback(h, b, hmac_secret.reveal(), now)


def verify_callback(
    headers: Mapping[str, str],
    body: bytes,
    hmac_secret: str,
    now: float,  # float-ok: unix seconds
) -> Event | Rejected:
    timestamp = headers.get("x-pontis-timestamp", "")
    event_id = headers.get("x-pontis-event-id", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > CALLBACK_WINDOW_SECONDS:
        return Rejected(401, "timestamp missing or outside the 300-second window")
    if not event_id:
        return Rejected(400, "no event id")
    key = pontis_crypto.key_bytes(hmac_secret)
    expected = "sha256=" + hmac_hex(key, timestamp.encode() + b"." + body, "sha256")
    if not secrets_equal(headers.get("x-pontis-signature", ""), expected):
        return Rejected(401, "bad signature")
    data = read_json(body)
    inner = data.get("data", data) if isinstance(data, dict) else None
    ref = field_text(inner.get("transaction_id")) if isinstance(inner, dict) else None
    if ref is None or not isinstance(inner, dict):
        return Rejected(400, "no transaction_id")
    return Event(
        "pontis",
        ref,
        map_status(STATUSES, field_text(inner.get("status"))),
        None,
        event_id,
        field_text(inner.get("status_message")),
    )
