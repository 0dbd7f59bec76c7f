"""TheDex adapter: signed POSTs (``X-EX-PAYLOAD`` = base64 of the exact body, ``X-EX-SIGNATURE``
= HMAC-SHA512 of it), numeric statuses, and no idempotency key (tag + list search)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from batchpay.config import Environment, Secret
from batchpay.model import RowStatus
from batchpay.money import provider_amount
from batchpay.providers.auth import TheDexAuth
from batchpay.providers.base import Answer, Disposition, Listing, PayoutRequest, Quote, Sent
from batchpay.providers.boundary import Failure, Reply
from batchpay.providers.callback import Event, Rejected, Verifier, field_text, read_json
from batchpay.providers.http import payout_or_unknown, provider_message, response_view
from batchpay.providers.opening import Opening
from batchpay.providers.tagged import (
    TaggedAdapter,
    match_tagged,
    search_failed,
    tag_in,
    tagged_description,
)
from batchpay.providers.wire import b64, dumps, hmac_hex, secrets_equal
from batchpay.registry import ProviderEntry

# 7 "Cancelled" is documented as not final: keep it open and keep polling.
STATUSES = {
    0: RowStatus.PENDING,
    1: RowStatus.COMPLETED,
    2: RowStatus.FAILED,
    3: RowStatus.PROCESSING,
    4: RowStatus.PROCESSING,
    5: RowStatus.PROCESSING,
    6: RowStatus.FAILED,
    7: RowStatus.PROCESSING,
    8: RowStatus.PROCESSING,
}
OPERATOR_FIELDS = {"balance", "limit"}
DESCRIPTION_LIMIT = 300


class TheDexAdapter(TaggedAdapter):
    name = "thedex"

    def __init__(
        self,
        key: Secret,
        secret: Secret,
        base_url: str,
        networks: Mapping[str, str],
        **options: Any,
    ) -> None:
        super().__init__(base_url, networks, **options)
        self.client.auth = TheDexAuth(key, secret)

    def _call(self, path: str, payload: dict[str, Any]) -> Reply | Failure:
        """A POST of the exact body; :class:`TheDexAuth` adds the three signed headers."""
        body = dumps({**payload, "request": path, "nonce": int(self._clock() * 1000)}).encode()
        headers = {"Content-Type": "application/json"}
        return self.exchange("POST", path, body=body, headers=headers)

    def pay_currency(self, request: PayoutRequest) -> str:
        suffix = self._networks.get(request.network or "", request.network or "")
        return f"{request.currency}_{suffix}"

    def payload(self, request: PayoutRequest) -> dict[str, Any]:
        data: dict[str, Any] = {
            "amountInPayCurrency": request.amount,
            "payCurrency": self.pay_currency(request),
            "address": request.address,
            "description": tagged_description(request, DESCRIPTION_LIMIT),
        }
        if request.memo:
            data["memo"] = int(request.memo) if request.memo.isdigit() else request.memo
        return data

    def create(self, request: PayoutRequest) -> Answer:
        payload = self.payload(request)
        view = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in payload.items()}
        return self.answer(self._call("/api/v1/payouts/create", payload), view)

    def lookup(self, request: PayoutRequest, provider_ref: str | None) -> Answer | None:
        if provider_ref:
            answer = self.answer(
                self._call("/api/v1/payouts/one", {"payoutId": provider_ref}), None
            )
            if answer.error_code != "not_found":
                return payout_or_unknown(answer)
            # not under that id: only the whole search may say "not found"
        listed, reason = self._list(self.span(request.sent))
        if reason is not None:
            return search_failed(f"the provider's payout list could not be read: {reason}")
        # Every payout of the window is a candidate: the tag decides, and a filter on a
        # field spelled another way at the provider must not hide our payout.
        return match_tagged(
            request,
            listed,
            lambda p: str(p.get("description", "")),
            lambda p: self._from_payout(p, None, None),
        )

    def list_payouts(self, sent: Sent | None = None) -> Listing | None:
        listed, reason = self._list(self.span(sent))
        return Listing([self._from_payout(p, None, None) for p in listed], reason is None, reason)

    def _list(self, span: tuple[int, int]) -> tuple[list[dict[str, Any]], str | None]:
        """Every payout created in ``span`` (unix seconds), and None; or [] and why not.
        The list is documented without paging: one array for the window asked."""
        reply = self._call("/api/v1/payouts", {"from": span[0] * 1000, "to": span[1] * 1000})
        if isinstance(reply, Failure):
            return [], reply.code
        if reply.status_code != 200 or not isinstance(reply.data, list):
            return [], f"HTTP {reply.status_code} without a list"
        if not all(isinstance(p, dict) and p.get("id") not in (None, "") for p in reply.data):
            return [], "a listed payout has no id"
        return list(reply.data), None

    def quote(self, request: PayoutRequest) -> Quote | None:
        return None  # no fee preview endpoint

    def read_reply(self, reply: Reply, sent: Mapping[str, Any] | None) -> Answer:
        data = reply.data
        if reply.status_code == 200 and isinstance(data, dict) and data.get("id"):
            return self._from_payout(data, reply, sent)
        view = response_view(reply)
        if (
            reply.status_code == 422
            and isinstance(data, dict)
            and isinstance(data.get("errors"), dict)
        ):
            fields = set(data["errors"])
            disposition = Disposition.OPERATOR if fields & OPERATOR_FIELDS else Disposition.FINAL
            message = "; ".join(f"{k}: {v}" for k, v in data["errors"].items())
            return Answer(
                RowStatus.FAILED,
                disposition,
                http_status=422,
                error_code="invalid_" + "_".join(sorted(fields)),
                error_message=message,
                request=sent,
                response=view,
            )
        message = provider_message(reply) or "request refused"
        if reply.status_code == 422 and "cannot create payout" in message.lower():
            return Answer(
                RowStatus.UNKNOWN,
                Disposition.UNKNOWN,
                http_status=422,
                error_code="chain_trouble",
                error_message=message,
                request=sent,
                response=view,
            )
        code = "not_found" if "not found" in message.lower() else f"http_{reply.status_code}"
        return Answer(
            RowStatus.FAILED,
            Disposition.FINAL,
            http_status=reply.status_code,
            error_code=code,
            error_message=message,
            request=sent,
            response=view,
        )

    def _from_payout(
        self, payout: dict[str, Any], reply: Reply | None, sent: Mapping[str, Any] | None
    ) -> Answer:
        raw = payout.get("status")
        status = (
            STATUSES.get(int(raw), RowStatus.UNKNOWN)
            if isinstance(raw, int | str) and str(raw).isdigit()
            else RowStatus.UNKNOWN
        )
        failed = status is RowStatus.FAILED
        amount = payout.get("withdrawalAmount")
        fee = payout.get("blockchainFee")
        note = payout.get("statusName")
        return Answer(
            status=status,
            disposition=Disposition.FINAL if failed else Disposition.ACCEPTED,
            provider_ref=str(payout["id"]),
            key=tag_in(str(payout.get("description", ""))),
            amount=provider_amount(amount),
            address=payout.get("address"),
            fee=provider_amount(fee),
            tx_hash=payout.get("transactionId") or None,
            error_code=f"status_{raw}" if failed else None,
            error_message=f"{note}" if failed or raw == 7 else None,
            http_status=reply.status_code if reply else None,
            request=sent,
            response=response_view(reply) if reply else None,
        )


def open_adapter(opening: Opening) -> TheDexAdapter:
    return TheDexAdapter(
        opening.secret("API_KEY"),
        opening.secret("API_SECRET"),
        opening.base_url,
        opening.networks,
        grace_seconds=opening.grace_seconds,
        **opening.http,
    )


def callback_verifier(entry: ProviderEntry, env: Environment) -> Verifier:
    api_key = env.secret(entry.var("API_KEY"))
    secret = env.secret(entry.var("API_SECRET"))
    return lambda h, b, now: verify_callback(h, b, api_key.reveal(), secret.reveal())


def verify_callback(
    headers: Mapping[str, str], body: bytes, api_key: str, secret: str
) -> Event | Rejected:
    payload = b64(body)
    signature = hmac_hex(secret.encode(), payload.encode(), "sha512")
    if not (
        secrets_equal(headers.get("x-ex-apikey", ""), api_key)
        and secrets_equal(headers.get("x-ex-payload", ""), payload)
        and secrets_equal(headers.get("x-ex-signature", ""), signature)
    ):
        return Rejected(401, "bad signature")
    data = read_json(body)
    ref = field_text(data.get("id")) if isinstance(data, dict) else None
    if ref is None:
        return Rejected(400, "no payout id")
    raw = field_text(data.get("status")) or ""
    digits = raw.isascii() and raw.isdigit()
    status = STATUSES.get(int(raw), RowStatus.UNKNOWN) if digits else RowStatus.UNKNOWN
    return Event("thedex", ref, status, field_text(data.get("transactionId")))
