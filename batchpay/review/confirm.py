"""The confirm step of ``run`` against a live provider (issue #14, item 5).

``batchpay.api.run`` takes an optional ``confirm`` callable. Just before the first payout of
a live batch (after every check, the balance check included, and only when there are rows to
send) it is shown a :class:`ToConfirm` and must return True, or nothing is sent and
:class:`~batchpay.errors.NotConfirmed` (exit 2) is raised. The command line passes one only
when stdin and stderr are both a terminal and ``--yes`` was not given: scripts and cron jobs
are never asked anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from batchpay.errors import NotConfirmed
from batchpay.money import total
from batchpay.records import Plan, PlannedPayout


@dataclass(frozen=True)
class ToConfirm:
    """What the operator confirms: the batch id to type, and what will be sent."""

    batch: str
    provider: str
    live: bool
    rows: int  # payouts about to be sent
    totals: dict[str, Decimal]  # currency -> amount to send
    networks: dict[tuple[str, str | None], Decimal]  # (currency, network) -> amount
    digest: str


Confirm = Callable[[ToConfirm], bool]


def to_confirm(
    plan: Plan,
    items: Iterable[PlannedPayout],
    fee_option: str,
    networks: Mapping[str, str] | None = None,
) -> ToConfirm:
    from batchpay.review.digest import approval_digest

    items = list(items)
    currencies = sorted({i.payout.currency for i in items})
    groups = sorted({(i.payout.currency, i.payout.network) for i in items}, key=str)
    return ToConfirm(
        plan.batch,
        plan.provider,
        plan.provider != "sandbox",
        len(items),
        {c: total(i.payout.amount for i in items if i.payout.currency == c) for c in currencies},
        {
            g: total(i.payout.amount for i in items if (i.payout.currency, i.payout.network) == g)
            for g in groups
        },
        approval_digest(plan, fee_option=fee_option, networks=networks),
    )


def ask(confirm: Confirm | None, live: bool, what: ToConfirm) -> None:
    """Ask ``confirm`` about a live batch with rows to send; NotConfirmed if it says no."""
    if confirm is None or not live or what.rows == 0:
        return
    if not confirm(what):
        raise NotConfirmed(
            f"not confirmed: batch {what.batch!r} was not typed; nothing was sent "
            "(run the same command again, or pass --yes in scripts)"
        )
