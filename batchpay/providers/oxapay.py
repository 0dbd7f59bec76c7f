"""OxaPay v1 adapter: ``payout_api_key`` header, amount as a JSON number, and no idempotency
key: a tag in ``description`` and a history search stand in for one."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from batchpay.config import Environment, Secret
from batchpay.model import RowStatus
from batchpay.money import provider_amount, to_wire
from batchpay.providers.auth import OxaPayAuth
from batchpay.providers.balances import oxapay_balances
from batchpay.providers.base import (
    Answer,
    Balances,
    Disposition,
    Listing,
    PayoutRequest,
    Quote,
    Sent,
    map_status,
)
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
from batchpay.providers.wire import dumps, hmac_hex, secrets_equal
from batchpay.registry import ProviderEntry

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
# Optional (the registry's ``optional``): only the balance check uses it
GENERAL_KEY_VAR = "BATCHPAY_OXAPAY_GENERAL_API_KEY"
PAGE_SIZE = 200  # the most the history gives per page


class OxaPayAdapter(TaggedAdapter):
    name = "oxapay"
    search_pages = 100  # a lookup reads at most this many pages, else it answers unknown
    listing_pages = 1000  # a reconciliation listing, else it is reported incomplete

    def __init__(
        self,
        key: Secret,
        base_url: str,
        networks: Mapping[str, str],
        general_key: Secret | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, networks, **options)
        self.client.auth = OxaPayAuth(key)
        self._general_key = general_key  # the balance call's key (optional)

    def _headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"}

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
            reply = self.exchange("GET", f"/payout/{provider_ref}", headers=self._headers())
            if not _not_found(reply):
                return payout_or_unknown(self.answer(reply, None))
            # not under that reference: only the whole search may say "not found"
        return self._search(request)

    def quote(self, request: PayoutRequest) -> Quote | None:
        return None  # OxaPay publishes no fee preview for payouts

    def balances(self) -> Balances:
        """The account balance (``GET /general/account/balance``, General API key)."""
        if self._general_key is None:
            return Balances(None, f"{GENERAL_KEY_VAR} is not set (OxaPay's General API key)")
        headers = {**self._headers(), "general_api_key": self._general_key.reveal()}
        return oxapay_balances(self.exchange("GET", "/general/account/balance", headers=headers))

    def list_payouts(self, sent: Sent | None = None) -> Listing | None:
        found, reason = self._history({}, self.span(sent), self.listing_pages)
        return Listing([self._from_payout(p, None, None) for p in found], reason is None, reason)

    def _search(self, request: PayoutRequest) -> Answer | None:
        # Narrowed by what the history can filter on and we know exactly. Not by network:
        # OxaPay spells networks differently across its pages, and a filter that misses our
        # payout would read as "not found". The tag decides, over a superset.
        found, reason = self._history(
            {
                "currency": request.currency,
                "from_amount": to_wire(request.amount),  # 0.00000010, never 1.0E-7
                "to_amount": to_wire(request.amount),
            },
            self.span(request.sent),
            self.search_pages,
        )
        match = match_tagged(
            request,
            found,
            lambda p: str(p.get("description", "")),
            lambda p: self._from_payout(p, None, None),
        )
        if match is None and reason is not None:  # what was not read may hold it
            return search_failed(f"the payout history could not be read to the end: {reason}")
        return match  # a payout with our tag exists, even if the rest was not read

    def _history(
        self, filters: dict[str, Any], span: tuple[int, int], max_pages: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every payout in ``span`` matching ``filters``, and None; or what was read and why
        it is not the whole window (then the absence of a payout proves nothing)."""
        params = {**filters, "from_date": span[0], "to_date": span[1], "size": PAGE_SIZE}
        found: dict[str, dict[str, Any]] = {}  # by track_id: a shifted page repeats items
        total: int | None = None
        page = last = 1
        while page <= last:
            if page > max_pages:
                return list(found.values()), f"more than {max_pages} pages match"
            reply = self.exchange(
                "GET", "/payout", params={**params, "page": page}, headers=self._headers()
            )
            read = _page(reply, page)
            if isinstance(read, str):
                return list(found.values()), f"page {page}: {read}"
            items, last, count = read
            if total is not None and count != total:
                return list(found.values()), "the history changed while it was read"
            total = count
            found.update((str(p["track_id"]), p) for p in items)
            page += 1
        if len(found) != total:
            return list(found.values()), f"it counts {total} payouts, {len(found)} were listed"
        return list(found.values()), None

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


def _not_found(reply: Reply | Failure) -> bool:
    """The provider itself says there is no payout under this reference."""
    return isinstance(reply, Reply) and reply.status_code == 404 and isinstance(reply.data, dict)


def _page(reply: Reply | Failure, page: int) -> tuple[list[dict[str, Any]], int, int] | str:
    """(payouts, last_page, total) of one history page, or why it cannot be trusted."""
    if isinstance(reply, Failure):
        return reply.code
    if reply.status_code != 200:
        return f"HTTP {reply.status_code}"
    data = reply.data.get("data") if isinstance(reply.data, dict) else None
    items = data.get("list") if isinstance(data, dict) else None
    meta = data.get("meta") if isinstance(data, dict) else None
    if not isinstance(items, list) or not isinstance(meta, dict):
        return "the answer holds no list and meta"
    last, total, number = _count(meta.get("last_page")), _count(meta.get("total")), meta.get("page")
    if last is None or total is None or last < 1 or len(items) > PAGE_SIZE:
        return "the page counts cannot be read"
    if number is not None and _count(number) != page:
        return f"the answer is page {number}"
    if not all(isinstance(p, dict) and p.get("track_id") not in (None, "") for p in items):
        return "a listed payout has no track_id"
    return items, last, total


def _count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _dec(value: object) -> Decimal | None:
    return provider_amount(value)


def _error_key(data: dict[str, Any], status: int) -> str:
    error = data.get("error")
    if isinstance(error, dict) and error.get("key"):
        return f"invalid_{error['key']}"
    return f"http_{status}"


def _view(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in payload.items()}


def open_adapter(opening: Opening) -> OxaPayAdapter:
    general = opening.settings.env.get(opening.entry.var("GENERAL_API_KEY"))
    return OxaPayAdapter(
        opening.secret("PAYOUT_API_KEY"),
        opening.base_url,
        opening.networks,
        Secret(general) if general else None,
        grace_seconds=opening.grace_seconds,
        **opening.http,
    )


def callback_verifier(entry: ProviderEntry, env: Environment) -> Verifier:
    key = env.secret(entry.var("PAYOUT_API_KEY"))
    return lambda h, b, now: verify_callback(h, b, key.reveal())


def verify_callback(headers: Mapping[str, str], body: bytes, key: str) -> Event | Rejected:
    expected = hmac_hex(key.encode(), body, "sha512")
    if not secrets_equal(headers.get("hmac", ""), expected):
        return Rejected(401, "bad HMAC signature")
    data = read_json(body)
    ref = field_text(data.get("track_id")) if isinstance(data, dict) else None
    if ref is None:
        return Rejected(400, "no track_id")
    return Event(
        "oxapay",
        ref,
        map_status(STATUSES, field_text(data.get("status"))),
        field_text(data.get("tx_hash")),
    )
