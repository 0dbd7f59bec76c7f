"""2328.io adapter: ``project`` + ``sign`` (HMAC-SHA256 over base64 of the exact body), amounts
as strings, ``order_id`` as the idempotency key."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from batchpay.config import Environment, Secret
from batchpay.keys import KeyForm
from batchpay.model import RowStatus
from batchpay.money import MONEY_CONTEXT, provider_amount, to_wire
from batchpay.providers.auth import Pay2328Auth
from batchpay.providers.balances import pay2328_balances
from batchpay.providers.base import (
    Answer,
    Balances,
    Disposition,
    PayoutRequest,
    Quote,
    map_status,
)
from batchpay.providers.boundary import Failure, Reply
from batchpay.providers.callback import Event, Rejected, Verifier, field_text, read_json
from batchpay.providers.http import (
    HttpAdapter,
    payout_or_unknown,
    provider_message,
    response_view,
)
from batchpay.providers.opening import Opening
from batchpay.providers.wire import b64, dumps, hmac_hex, secrets_equal
from batchpay.registry import ProviderEntry

STATUSES = {
    "pending": RowStatus.PENDING,
    "completed": RowStatus.COMPLETED,
    "failed": RowStatus.FAILED,
    "cancelled": RowStatus.CANCELLED,
    "canceled": RowStatus.CANCELLED,
}


class Pay2328Adapter(HttpAdapter):
    name = "2328io"
    key_form = KeyForm.UUID
    dedupes_by_key = True
    grace_seconds = 0.0  # float-ok: seconds; order_id makes a resend safe at any time

    def __init__(
        self,
        project: Secret,
        key: Secret,
        base_url: str,
        networks: Mapping[str, str],
        memo_networks: frozenset[str],
        transport: httpx.BaseTransport | None = None,
        **timeouts: float,  # float-ok: seconds
    ) -> None:  # float-ok
        super().__init__(base_url, transport=transport, **timeouts)
        self._auth = Pay2328Auth(project, key)
        self.client.auth = self._auth
        self._networks = networks
        self._memo_networks = memo_networks

    def sign(self, body: bytes) -> str:
        return self._auth.sign(body)

    def _call(self, method: str, path: str, payload: Mapping[str, Any] | None) -> Reply | Failure:
        """The exact body (none for a GET); :class:`Pay2328Auth` adds ``project`` and ``sign``."""
        body = dumps(payload).encode() if payload is not None else b""
        headers = {"Content-Type": "application/json"}
        return self.exchange(method, path, body=body or None, headers=headers)

    def payload(self, request: PayoutRequest) -> dict[str, Any]:
        network = self._networks.get(request.network or "")
        data: dict[str, Any] = {
            "currency": request.currency,
            "network": network or request.network,
            "amount": to_wire(request.amount),
            "to_address": request.address,
            "order_id": request.key,
            "fee_option": request.fee_option,
        }
        # a memo is never dropped: validation lets one through only where the network takes
        # one, and a network the user mapped in batchpay.toml (XRP, say) must carry its tag
        if request.memo:
            data["memo"] = request.memo
        if request.extra.get("from_currency"):
            data["from_currency"] = request.extra["from_currency"]
        return data

    def create(self, request: PayoutRequest) -> Answer:
        payload = self.payload(request)
        return self.answer(self._call("POST", "/v1/payout", payload), payload)

    def balances(self) -> Balances:
        """The merchant accounts' available balances (``GET /v1/balance``)."""
        return pay2328_balances(self._call("GET", "/v1/balance", None))

    def lookup(self, request: PayoutRequest, provider_ref: str | None) -> Answer | None:
        if not provider_ref:
            return None  # no search by order_id; a resend with the same order_id is safe
        reply = self._call("GET", f"/v1/payout/status/{provider_ref}", None)
        if (
            isinstance(reply, Reply)
            and reply.status_code == 404
            and isinstance(reply.data, dict)
            and reply.data.get("state") not in (None, 0)
        ):
            return None  # the provider's own "no such payout"
        return payout_or_unknown(self.answer(reply, None))

    def quote(self, request: PayoutRequest) -> Quote | None:
        payload = self.payload(request)
        reply = self._call("POST", "/v1/payout/calc", payload)
        if not isinstance(reply, Reply) or reply.status_code != 200:
            return None
        result = (reply.data or {}).get("result") if isinstance(reply.data, dict) else None
        if not isinstance(result, dict):
            return None
        debited = _amount(result["merchant_amount"])
        receives = _amount(result["network_amount"])
        fee = (
            _amount(result["total_fee"])
            if "total_fee" in result
            else MONEY_CONTEXT.subtract(debited, receives)
        )
        return Quote(request.currency, request.amount, fee, receives, debited)

    def read_reply(self, reply: Reply, sent: Mapping[str, Any] | None) -> Answer:
        data = reply.data if isinstance(reply.data, dict) else {}
        result = data.get("result")
        if data.get("state") == 0 and isinstance(result, dict):
            return self._from_result(result, reply, sent)
        message = provider_message(reply) or str(data.get("error") or "request refused")
        return Answer(
            RowStatus.FAILED,
            Disposition.FINAL,
            http_status=reply.status_code,
            error_code=f"http_{reply.status_code}",
            error_message=message,
            request=sent,
            response=response_view(reply),
        )

    def _from_result(
        self, result: dict[str, Any], reply: Reply, sent: Mapping[str, Any] | None
    ) -> Answer:
        status = map_status(STATUSES, result.get("status"))
        merchant, network = result.get("merchant_amount"), result.get("network_amount")
        fee = None
        if merchant is not None and network is not None:
            fee = MONEY_CONTEXT.subtract(_amount(merchant), _amount(network)).copy_abs()
        failed = status is RowStatus.FAILED
        return Answer(
            status=status,
            disposition=Disposition.FINAL if failed else Disposition.ACCEPTED,
            provider_ref=result.get("uuid"),
            amount=provider_amount(result.get("amount")),
            address=result.get("to_address"),
            fee=fee,
            tx_hash=result.get("txid"),
            error_code=result.get("error_type") if failed else None,
            error_message=f"failed: {result.get('error_type') or 'unspecified'}"
            if failed
            else None,
            http_status=reply.status_code,
            request=sent,
            response=response_view(reply),
        )


def _amount(value: object) -> Decimal:
    """A required amount of a 2328.io answer: present and readable, else ValueError."""
    amount = provider_amount(value)
    if amount is None:
        raise ValueError("the provider's answer lacks an amount it should carry")
    return amount


def open_adapter(opening: Opening) -> Pay2328Adapter:
    return Pay2328Adapter(
        opening.secret("PROJECT"),
        opening.secret("PAYOUT_API_KEY"),
        opening.base_url,
        opening.networks,
        opening.entry.memo_networks,
        **opening.http,
    )


def callback_verifier(entry: ProviderEntry, env: Environment) -> Verifier:
    key = env.secret(entry.var("PAYOUT_API_KEY"))
    return lambda h, b, now: verify_callback(b, key.reveal())


def _encodings(data: Mapping[str, Any]) -> set[str]:
    """The payload as PHP or JSON.stringify would write it: slashes and non-ASCII escaped or not
    (which one 2328.io uses is unconfirmed, so every combination is tried)."""
    variants = set()
    for ascii_only in (False, True):
        text = dumps(dict(data), ensure_ascii=ascii_only)
        variants |= {text, text.replace("/", "\\/")}
    return variants


def verify_callback(body: bytes, key: str) -> Event | Rejected:
    try:
        data = read_json(body)
    except ValueError:
        return Rejected(400, "body is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("sign"), str):
        return Rejected(401, "no sign field")
    received = data.pop("sign")
    if not any(
        secrets_equal(received, hmac_hex(key.encode(), b64(text.encode()).encode(), "sha256"))
        for text in _encodings(data)
    ):
        return Rejected(401, "bad sign")
    ref = field_text(data.get("uuid"))
    if ref is None:
        return Rejected(400, "no uuid")
    return Event(
        "2328io",
        ref,
        map_status(STATUSES, field_text(data.get("status"))),
        field_text(data.get("txid")),
        message=field_text(data.get("error_type")),
    )
