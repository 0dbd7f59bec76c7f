"""Which rows to ask the provider's fee quote for, before the fee check of the preflight.

The dry run shows every row's fee, so it quotes every row. The run only needs to know which
rows a fee would eat whole: what a recipient gets grows with the amount (a flat fee plus a
percentage under 100 %), so per currency and network it quotes the smallest amounts first and
stops at the first one that leaves the recipient something. A 10,000-row sheet of ordinary
salaries costs one quote per currency and network, not 10,000.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from batchpay.model import PayoutDetails
from batchpay.plan import PlannedPayout
from batchpay.providers.base import PayoutRequest, Quote

Ask = Callable[[PayoutRequest], Quote | None]  # the provider's quote (None: it gives none)


def quote_requests(
    items: Iterable[PlannedPayout], ask: Ask, fee_option: str, *, every: bool
) -> dict[str, Quote]:
    """Ask the provider for the quotes :func:`gather_quotes` picks."""

    def quote(item: PlannedPayout) -> Quote | None:
        p = item.payout
        return ask(
            PayoutRequest(
                row_key=item.row_key,
                attempt=1,
                key="quote",
                fee_option=fee_option,
                # a quote is asked without the recipient's name and the description
                **replace(PayoutDetails.of(p), name=None, description=None).as_kwargs(),
            )
        )

    return gather_quotes(items, quote, every=every)


def gather_quotes(
    items: Iterable[PlannedPayout], quote: Callable[[PlannedPayout], Quote | None], *, every: bool
) -> dict[str, Quote]:
    """row key -> quote, for every row (``every``) or for the rows the fee check needs."""
    items = list(items)
    if every:
        quotes: dict[str, Quote] = {}
        for item in items:
            found = quote(item)
            if found is not None:
                quotes[item.row_key] = found
        return quotes
    groups: dict[tuple[str, str | None], list[PlannedPayout]] = {}
    for item in items:
        groups.setdefault((item.payout.currency, item.payout.network), []).append(item)
    quotes = {}
    for group in groups.values():
        group.sort(key=lambda i: i.payout.amount)
        asked: dict[object, Quote | None] = {}
        for item in group:
            amount = item.payout.amount
            if amount not in asked:
                if asked and not _eaten(list(asked.values())[-1]):
                    break  # larger amounts leave the recipient more
                asked[amount] = quote(item)
            found = asked[amount]
            if found is not None:
                quotes[item.row_key] = found
    return quotes


def _eaten(found: Quote | None) -> bool:
    return found is not None and found.receives <= 0
