"""What the send stage asks a provider before it may conclude anything: lookups and listings.

The rule they share: an answer that could not tell is *unknown*. A lookup is "not found" (None)
only when the provider provably holds no such payout, and a listing that could not be read to
the end is marked incomplete, so that neither a resend nor a "clean" reconciliation rests on
what was never read. Searches are narrowed to the time the ledger says the payouts were sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from batchpay.ledger import Ledger
from batchpay.providers.base import Answer, Listing, PayoutRequest, Provider, Sent
from batchpay.providers.http import payout_or_unknown
from batchpay.send.outcomes import adapter_failed


def with_send_time(ledger: Ledger, batch: str, request: PayoutRequest) -> PayoutRequest:
    """``request`` with when the ledger recorded its create requests (by key or tag)."""
    started = [
        moment
        for a in ledger.attempts(batch, request.row_key)
        if a.action == "create" and a.idempotency_key == request.key
        for moment in [_moment(a.started_at)]
        if moment is not None
    ]
    return replace(request, sent=Sent(min(started), max(started))) if started else request


def look_up(call: Callable[[], Answer | None]) -> Answer | None:
    """The provider's payout, or None only when it provably holds none; anything that is not
    a payout (an error, a refusal, an adapter bug) is unknown: never resent, never failed."""
    try:
        answer = call()
    except Exception as exc:
        return adapter_failed(exc)
    return None if answer is None else payout_or_unknown(answer)


def batch_listing(ledger: Ledger, batch: str, provider: Provider) -> Listing | None:
    """The provider's payouts for the time this batch was sending; an adapter that fails
    gives an incomplete listing, never an exception and never an empty "clean" one."""
    first, last = _moment(ledger.first_create(batch)), _moment(ledger.last_create(batch))
    sent = Sent(first, last) if first and last else None  # None: the provider's default span
    try:
        return provider.list_payouts(sent)
    except Exception as exc:
        return Listing([], complete=False, reason=f"{type(exc).__name__} in the adapter")


def _moment(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text or "")
    except ValueError:
        return None
