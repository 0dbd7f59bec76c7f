"""OxaPay v1 adapter: ``payout_api_key`` header, amount as a JSON number, and no idempotency
key: a tag in ``description`` and a history search stand in for one."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from batchpay.config import Secret
from batchpay.model import RowStatus
from batchpay.providers.base import Answer, Disposition, PayoutRequest, Quote, map_status
from batchpay.providers.http import provider_message, response_view
from batchpay.providers.tagged import (
    TaggedAdapter,
    match_tagged,
    search_failed,
    tag_in,
    tagged_description,
)
from batchpay.providers.transport import Failure, Reply
from batchpay.providers.wire import dumps

STATUSES = {
    "processing": RowStatus.PENDING,
    "pending": RowStatus.PENDING,
    "confirming": RowStatus.PROCESSING,
    "confirmed": RowStatus.COMPLETED,
    "rejected": RowStatus.FAILED,
    "canceled": RowStatus.CANCELLED,
    "cancelled": RowStatus.CANCELLED,
}
DESCRIPTION_LIMIT = 300
SEARCH_DAYS = 31
PAGE_SIZE = 200
MAX_PAGES = 50


class OxaPayAdapter(TaggedAdapter):
    name = "oxapay"

    def __init__(
        self, key: Secret, base_url: str, networks: Mapping[str, str], **options: Any
    ) -> None:
        super().__init__(base_url, networks, **options)
        self._key = key

    def _headers(self) -> dict[str, str]:
        return {"payout_api_key": self._key.reveal(), "Content-Type": "application/json"}

    def payload(self, request: PayoutRequest) -> dict[str, Any]:
        data: dict[str, Any] = {
            "address": request.address,
            "currency": request.currency,
            "amount": request.amount,  # written as an exact JSON number
            "network": self._networks.get(request.network or "", request.network),
            "description": tagged_description(request, DESCRIPTION_LIMIT),
        }
        if request.memo:
            data["memo"] = request.memo
        return data

    def create(self, request: PayoutRequest) -> Answer:
        payload = self.payload(request)
        reply = self.exchange(
            "POST", "/payout", body=dumps(payload).encode(), headers=self._headers()
        )
        return self.answer(reply, _view(payload))

    def lookup(self, request: PayoutRequest, provider_ref: str | None) -> Answer | None:
        if provider_ref:
            answer = self.answer(
                self.exchange("GET", f"/payout/{provider_ref}", headers=self._headers()), None
            )
            return None if answer.http_status == 404 else answer
        return self._search(request)

    def quote(self, request: PayoutRequest) -> Quote | None:
        return None  # OxaPay publishes no fee preview for payouts

    def list_payouts(self) -> list[Answer] | None:
        found = self._history({})
        if found is None:
            return None
        return [self._from_payout(p, None, None) for p in found]

    def _search(self, request: PayoutRequest) -> Answer | None:
        found = self._history(
            {
                "currency": request.currency,
                "network": self._networks.get(request.network or "", request.network),
                "from_amount": str(request.amount),
                "to_amount": str(request.amount),
            }
        )
        if found is None:
            return search_failed("could not search the provider's payout history")
        return match_tagged(
            request,
            found,
            lambda p: str(p.get("description", "")),
            lambda p: self._from_payout(p, None, None),
        )

    def _history(self, filters: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Every payout of the last SEARCH_DAYS matching ``filters``; None if it failed."""
        now = int(self._clock())
        params: dict[str, Any] = {
            **filters,
            "from_date": now - SEARCH_DAYS * 86400,
            "to_date": now + 86400,
            "size": PAGE_SIZE,
        }
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            reply = self.exchange(
                "GET", "/payout", params={**params, "page": page}, headers=self._headers()
            )
            if isinstance(reply, Failure) or reply.status_code != 200 or not reply.json_ok:
                return None
            data = reply.data.get("data", {}) if isinstance(reply.data, dict) else {}
            found += [p for p in data.get("list", []) if isinstance(p, dict)]
            if page >= int(data.get("meta", {}).get("last_page", 1)):
                break
        return found

    def read_reply(self, reply: Reply, sent: Mapping[str, Any] | None) -> Answer:
        data = reply.data if isinstance(reply.data, dict) else {}
        payout = data.get("data")
        if reply.status_code == 200 and isinstance(payout, dict) and payout.get("track_id"):
            return self._from_payout(payout, reply, sent)
        return Answer(
            RowStatus.FAILED,
            Disposition.FINAL,
            http_status=reply.status_code,
            error_code=_error_key(data, reply.status_code),
            error_message=provider_message(reply) or "request refused",
            request=sent,
            response=response_view(reply),
        )

    def _from_payout(
        self, payout: dict[str, Any], reply: Reply | None, sent: Mapping[str, Any] | None
    ) -> Answer:
        status = map_status(STATUSES, payout.get("status"))
        failed = status is RowStatus.FAILED
        return Answer(
            status=status,
            disposition=Disposition.FINAL if failed else Disposition.ACCEPTED,
            provider_ref=str(payout["track_id"]),
            key=tag_in(str(payout.get("description", ""))),
            amount=_dec(payout.get("amount")),
            address=payout.get("address"),
            fee=_dec(payout.get("fee")),
            tx_hash=payout.get("tx_hash") or None,
            error_code="rejected" if failed else None,
            error_message="the provider rejected the payout" if failed else None,
            http_status=reply.status_code if reply else None,
            request=sent,
            response=response_view(reply) if reply else None,
        )


def _dec(value: object) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _error_key(data: dict[str, Any], status: int) -> str:
    error = data.get("error")
    if isinstance(error, dict) and error.get("key"):
        return f"invalid_{error['key']}"
    return f"http_{status}"


def _view(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in payload.items()}
