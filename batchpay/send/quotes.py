"""The dry run's fee quotes: asked of the provider exactly as the run would ask them (the
same requests, under the provider's rate limit), with nothing written anywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from batchpay.plan.fees import quote_requests
from batchpay.providers import Provider, Quote, open_provider
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.send.ratelimit import RateLimiter

if TYPE_CHECKING:
    import httpx

    from batchpay.config import Settings
    from batchpay.plan import Plan
    from batchpay.providers.base import PayoutRequest


def dry_run_quotes(
    plan: Plan, settings: Settings, transport: httpx.BaseTransport | None = None
) -> tuple[dict[str, Quote], bool]:
    """Every planned payout's quote (where the provider gives one), and whether the provider
    is a sandbox. The sandbox is a fresh one with no state: the dry run leaves none behind."""
    if plan.provider == "sandbox":
        provider: Provider = SandboxProvider(SandboxBank(None))
    else:
        provider = open_provider(plan.provider, settings, transport=transport)
    limiter = RateLimiter(settings.rate_limit(plan.provider))

    def ask(request: PayoutRequest) -> Quote | None:
        limiter.acquire()
        return provider.quote(request)

    try:
        quotes = quote_requests(plan.items, ask, settings.fee_option, every=True)
    finally:
        provider.close()
    return quotes, provider.is_sandbox
