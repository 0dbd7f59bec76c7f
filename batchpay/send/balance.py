"""The balance check before the first payout: a batch that runs dry half-way is the worst
outcome (some people paid, some not, and a resume that waits on a top-up).

Before ``run`` or ``retry`` sends its first payout, and where the provider publishes a
balance call (:mod:`batchpay.providers.balances`), the need per currency is compared with
the balance: the amounts still to send plus the fees charged on top of them (quoted by the
provider, or estimated from the quote of another row of the same currency and network). A
need over the balance stops the command with :class:`~batchpay.errors.BalanceError` (exit 6)
before anything is sent or saved.

A balance that cannot be read (the call is down, times out, answers something unreadable, or
needs a key that was not given) is *not known*: a warning says so and sending goes on. The
balance call is a safety net, not a gate that can stop payroll on its own.

On by default where the balance call is confirmed (:data:`CONFIRMED`); ``[balance] check``
and ``[balance.<provider>] check`` in batchpay.toml turn it on or off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from batchpay.config import Settings
from batchpay.errors import BalanceError
from batchpay.money import MONEY_CONTEXT, ZERO, to_wire
from batchpay.problems import Problem, Severity
from batchpay.providers.base import Balances, Quote
from batchpay.records import PlannedPayout

if TYPE_CHECKING:
    from batchpay.ledger import Ledger
    from batchpay.records import Plan
    from batchpay.review.confirm import Confirm
    from batchpay.send import Engine

CONFIRMED = frozenset({"oxapay", "sandbox"})  # checked unless batchpay.toml says otherwise


def enabled(settings: Settings, provider: str) -> bool:
    return settings.balance_checks.get(provider, provider in CONFIRMED)


@dataclass(frozen=True)
class Need:
    """What one currency's rows take from the balance."""

    currency: str
    rows: int
    amount: Decimal  # the amounts to send
    fees: Decimal  # charged on top of them (fee option ``add``), quoted or estimated
    fees_unknown: bool  # some row's fee is neither quoted nor estimated

    @property
    def total(self) -> Decimal:
        return MONEY_CONTEXT.add(self.amount, self.fees)


@dataclass(frozen=True)
class BalanceCheck:
    """The needs and, when known, the balances. ``note`` says why they are not known."""

    needs: dict[str, Need]
    balances: Balances | None
    checked: bool  # the check is on for this provider
    note: str | None = None

    def balance(self, currency: str) -> Decimal | None:
        return None if self.balances is None else self.balances.of(currency)

    def short(self) -> list[tuple[Need, Decimal]]:
        """(need, balance) for each currency the balance does not cover."""
        found = []
        for need in self.needs.values():
            held = self.balance(need.currency)
            if self.checked and held is not None and need.total > held:
                found.append((need, held))
        return found


def needs(
    items: Iterable[PlannedPayout], quotes: Mapping[str, Quote], fee_option: str
) -> dict[str, Need]:
    """Per currency: the rows, the amounts and the fees on top. A quoted row takes what the
    quote debits; another row under ``add`` takes its amount plus the largest fee quoted for
    its currency and network (a flat fee is the same for every amount); under ``deduct`` the
    fee comes out of the amount."""
    items = list(items)
    group_fee: dict[tuple[str, str | None], Decimal] = {}
    for item in items:
        quote = quotes.get(item.row_key)
        if quote is not None:
            key = (item.payout.currency, item.payout.network)
            group_fee[key] = max(group_fee.get(key, ZERO), quote.fee)
    found: dict[str, Need] = {}
    for item in items:
        p = item.payout
        quote = quotes.get(item.row_key)
        unknown = False
        if quote is not None:
            on_top = MONEY_CONTEXT.subtract(quote.debited, p.amount)
        elif fee_option == "add":
            estimate = group_fee.get((p.currency, p.network))
            on_top, unknown = (ZERO, True) if estimate is None else (estimate, False)
        else:
            on_top = ZERO
        old = found.get(p.currency) or Need(p.currency, 0, ZERO, ZERO, False)
        found[p.currency] = Need(
            p.currency,
            old.rows + 1,
            MONEY_CONTEXT.add(old.amount, p.amount),
            MONEY_CONTEXT.add(old.fees, max(on_top, ZERO)),
            old.fees_unknown or unknown,
        )
    return dict(sorted(found.items()))


def check_balance(
    provider: str,
    settings: Settings,
    items: Iterable[PlannedPayout],
    quotes: Mapping[str, Quote],
    fee_option: str,
    read: Callable[[], Balances | None],
) -> BalanceCheck:
    """The needs of ``items`` and the provider's balances (``read``: None where the adapter
    has no balance call). Reads nothing when the check is off or nothing is to be sent."""
    wanted = needs(items, quotes, fee_option)
    if not enabled(settings, provider):
        return BalanceCheck(wanted, None, False, "the balance check is off for this provider")
    if not wanted:
        return BalanceCheck(wanted, None, True)
    found = read()
    if found is None:
        return BalanceCheck(wanted, None, True, f"{provider} has no balance call batchpay knows")
    if found.amounts is None:
        return BalanceCheck(wanted, None, True, found.reason or "no answer")
    return BalanceCheck(wanted, found, True)


def enforce(provider: str, check: BalanceCheck) -> list[Problem]:
    """Raise BalanceError (exit 6) when a currency's need is over its balance; else the
    warning that the balance is not known, if it is not."""
    short = check.short()
    if short:
        lines = [_shortfall(provider, need, held) for need, held in short]
        raise BalanceError(
            "; ".join(lines) + ". Nothing was sent. Fund the account and run the same command "
            f"again (or turn the check off with [balance.{provider}] check = false)",
            {need.currency: (need.total, held) for need, held in short},
        )
    if check.checked and check.needs and check.balances is None:
        return [
            Problem(
                "balance.unknown",
                f"the {provider} balance is not known ({check.note}); sending goes on "
                "without the balance check",
                severity=Severity.WARNING,
            )
        ]
    return []


def _shortfall(provider: str, need: Need, held: Decimal) -> str:
    fees = f" + {to_wire(need.fees)} fees" if need.fees else ""
    unknown = " (plus fees the provider does not quote)" if need.fees_unknown else ""
    return (
        f"the {provider} {need.currency} balance does not cover the batch: it needs "
        f"{to_wire(need.total)} {need.currency} ({to_wire(need.amount)} to send{fees}, "
        f"{need.rows} row(s)){unknown}, the balance is {to_wire(held)} {need.currency}"
    )


def gate(
    engine: Engine, settings: Settings, items: Iterable[PlannedPayout], quotes: Mapping[str, Quote]
) -> list[Problem]:
    """The check as ``run`` and ``retry`` make it, before their first payout: raises
    BalanceError, or returns the warning that the balance is not known. Under fee option
    ``add`` with no quote at hand (a resumed batch), one quote per currency and network is
    asked so the fees on top can be estimated."""
    from batchpay.plan.fees import quote_requests

    items = list(items)
    name = engine.provider.name
    if not items or not enabled(settings, name):
        return []
    if engine.fee_option == "add" and not any(i.row_key in quotes for i in items):
        quotes = quote_requests(items, engine.quote, engine.fee_option, every=False)
    check = check_balance(name, settings, items, quotes, engine.fee_option, engine.balances)
    return enforce(name, check)


def unsent(ledger: Ledger, plan: Plan) -> list[PlannedPayout]:
    """The plan's rows no earlier run of the batch started sending: what this run sends."""
    existing = ledger.existing(plan.batch)
    return [
        i for i in plan.items if (old := existing.get(i.row_key)) is None or not old.sent_before
    ]


def last_checks(
    ledger: Ledger,
    engine: Engine,
    settings: Settings,
    plan: Plan,
    quotes: Mapping[str, Quote],
    confirm: Confirm | None,
    preflight: Callable[[], object],
) -> list[Problem]:
    """What ``run`` checks last, before its first payout, on the rows it will send: the
    balance (BalanceError, exit 6) and, when ``confirm`` is given and the provider is live,
    the operator's confirmation (NotConfirmed, exit 2). ``preflight`` (the run's own checks,
    read-only; raises SheetRejected) runs first wherever either would stop the run, so what
    the run refuses anyway is refused first. Returns the warnings."""
    from batchpay.review.confirm import ask, to_confirm

    items = unsent(ledger, plan)
    try:
        warnings = gate(engine, settings, items, quotes)
    except BalanceError:
        preflight()
        raise
    live = not engine.provider.is_sandbox
    if confirm is not None and live and items:
        preflight()
        codes = settings.networks.get(plan.provider)
        ask(confirm, live, to_confirm(plan, items, settings.fee_option, codes))
    return warnings
