"""For providers without an idempotency key (OxaPay, TheDex): a deterministic tag travels in
``description``, and after any doubt the provider is searched for it before anything is resent.

The search is narrowed so that it ends: to the time the ledger says the payout was sent
(widened by :data:`CLOCK_MARGIN` and the grace period), and where the provider can filter, to
the amount, currency and network. One match with our tag and address is our payout. No match
in a search that read its whole window is "not found" (the send stage resends only after the
grace period); a search that could not read its whole window is *unknown*, never "not found".
More than one match, or a match whose amount or address differs, is for a person to look at:
``needs_review``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

import httpx

from batchpay.keys import KeyForm
from batchpay.model import RowStatus
from batchpay.providers.base import Answer, Disposition, PayoutRequest, Sent, same_address
from batchpay.providers.http import HttpAdapter

T = TypeVar("T")

# Seconds either side of the ledger's send times: the provider's clock, and the moment it
# stamps a payout, may differ from ours by this much.
CLOCK_MARGIN = 900
SEARCH_DAYS = 31  # the span searched when the ledger holds no send time


class TaggedAdapter(HttpAdapter):
    """An HTTP adapter for a provider with no idempotency key: a tag in the description,
    lookups by search, and a grace period before "not found" is believed."""

    key_form = KeyForm.TAG
    dedupes_by_key = False

    def __init__(
        self,
        base_url: str,
        networks: Mapping[str, str],
        grace_seconds: float = 900.0,  # float-ok: seconds
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,  # float-ok: unix seconds
        **timeouts: float,  # float-ok: seconds
    ) -> None:
        super().__init__(base_url, transport=transport, **timeouts)
        self._networks = networks
        self.grace_seconds = grace_seconds
        self._clock = clock

    def span(self, sent: Sent | None) -> tuple[int, int]:
        """Unix seconds (from, to) to search for payouts sent in ``sent``: from the first send
        to the grace period after the last one (or now, if sooner), widened by the margin."""
        now = self._clock()
        if sent is None:
            return int(now) - SEARCH_DAYS * 86_400, int(now) + CLOCK_MARGIN
        first, last = sent.first.timestamp(), sent.last.timestamp()
        end = max(last, min(now, last + self.grace_seconds))
        return int(first) - CLOCK_MARGIN, int(end) + 1 + CLOCK_MARGIN


TAG = re.compile(r"\[(bp-[0-9a-f]{24})\]")


def tag_in(description: str) -> str | None:
    """Our tag: the last one, as :func:`tagged_description` appends it."""
    found = TAG.findall(description)
    return found[-1] if found else None


def tagged_description(request: PayoutRequest, limit: int) -> str:
    """The user's description with our tag appended, trimmed so the tag always fits."""
    tag = f"[{request.key}]"
    # a tag copied into the sheet (from last month's export, say) is not ours: dropped
    text = TAG.sub("", request.description or request.reference).strip()
    room = limit - len(tag) - 1
    return f"{text[:room]} {tag}" if room > 0 else tag


def search_failed(message: str) -> Answer:
    """The search for a tagged payout could not be done: whether it exists stays unknown."""
    return Answer(
        RowStatus.UNKNOWN, Disposition.UNKNOWN, error_code="search_failed", error_message=message
    )


def match_tagged(
    request: PayoutRequest,
    candidates: Iterable[T],
    description: Callable[[T], str],
    to_answer: Callable[[T], Answer],
) -> Answer | None:
    ours = [c for c in candidates if f"[{request.key}]" in description(c)]
    if not ours:
        return None
    if len(ours) > 1:
        first = to_answer(ours[0])
        return Answer(
            RowStatus.NEEDS_REVIEW,
            Disposition.UNKNOWN,
            provider_ref=first.provider_ref,
            error_code="duplicate_at_provider",
            error_message=f"{len(ours)} payouts at the provider carry this row's tag",
        )
    answer = to_answer(ours[0])
    if (answer.amount is not None and answer.amount != request.amount) or (
        answer.address is not None
        and (request.address is None or not same_address(request.address, answer.address))
    ):
        return Answer(
            RowStatus.NEEDS_REVIEW,
            Disposition.UNKNOWN,
            provider_ref=answer.provider_ref,
            error_code="doubtful_match",
            error_message="a payout with this row's tag has a different amount or address",
        )
    return answer
