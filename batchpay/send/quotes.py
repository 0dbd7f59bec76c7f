"""The dry run's fee quotes: asked of the provider exactly as the run would ask them (the
same requests, under the provider's rate limit), with nothing written anywhere. The review
pack asks the same, and the provider balance too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from batchpay.plan.fees import quote_requests
from batchpay.providers import Provider, Quote, open_provider, sandbox_state_path
from batchpay.providers.balances import balances_of
from batchpay.providers.base import Balances
from batchpay.providers.sandbox import SandboxBank, SandboxProvider, configured_balance
from batchpay.send.ratelimit import RateLimiter

if TYPE_CHECKING:
    import httpx

    from batchpay.config import Settings
    from batchpay.plan import Plan
    from batchpay.providers.base import PayoutRequest


@dataclass(frozen=True)
class ProviderView:
    """What the provider says about a plan before anything is sent."""

    quotes: dict[str, Quote]  # row key -> quote, where the provider gives one
    sandbox: bool
    balances: Balances | None = None  # None: not asked, or no balance call


def dry_run_quotes(
    plan: Plan, settings: Settings, transport: httpx.BaseTransport | None = None
) -> tuple[dict[str, Quote], bool]:
    """Every planned payout's quote (where the provider gives one), and whether the provider
    is a sandbox. The sandbox is a fresh one with no state: the dry run leaves none behind."""
    view = provider_view(plan, settings, transport, balances=False)
    return view.quotes, view.sandbox


def provider_view(
    plan: Plan,
    settings: Settings,
    transport: httpx.BaseTransport | None = None,
    *,
    balances: bool,
) -> ProviderView:
    """Every planned payout's quote and, with ``balances``, the provider's balances. The
    sandbox's balance is read from its state beside the ledger when there is one; nothing is
    created."""
    provider = _open(plan.provider, settings, transport, balances)
    limiter = RateLimiter(settings.rate_limit(plan.provider))

    def ask(request: PayoutRequest) -> Quote | None:
        limiter.acquire()
        return provider.quote(request)

    def limited(call: Callable[[], Any]) -> Any:
        limiter.acquire()
        return call()

    try:
        quotes = quote_requests(plan.items, ask, settings.fee_option, every=True)
        found = balances_of(provider, limited) if balances else None
    finally:
        provider.close()
    return ProviderView(quotes, provider.is_sandbox, found)


def _open(
    name: str, settings: Settings, transport: httpx.BaseTransport | None, state: bool
) -> Provider:
    if name != "sandbox":
        return open_provider(name, settings, transport=transport)
    balance = configured_balance(settings.env) if state else None
    path = sandbox_state_path(settings.ledger)
    return SandboxProvider(SandboxBank(path if state and path.exists() else None), None, balance)
