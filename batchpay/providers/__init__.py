"""Provider adapters behind one interface (:class:`~batchpay.providers.base.Provider`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchpay.config import PROVIDERS, Settings
from batchpay.errors import UsageError
from batchpay.providers.base import Answer, Disposition, PayoutRequest, Provider, Quote
from batchpay.providers.sandbox import FaultHook, SandboxBank, SandboxProvider
from batchpay.resources import load_schema_file

if TYPE_CHECKING:
    import httpx  # the HTTP adapters import it; the sandbox and start-up do not need it

__all__ = [
    "Answer",
    "Disposition",
    "PayoutRequest",
    "Provider",
    "Quote",
    "open_provider",
    "sandbox_state_path",
]

DEFAULT_BASE_URLS = {
    "oxapay": "https://api.oxapay.com/v1",
    "thedex": "https://app.thedex.cloud",
    "pontis": "https://api.pontisglobe.com",
    "2328io": "https://api.2328.io/api",
}
# The credential variables each provider needs, in the order they are checked.
CREDENTIALS_HINT = {
    "oxapay": ("BATCHPAY_OXAPAY_PAYOUT_API_KEY",),
    "thedex": ("BATCHPAY_THEDEX_API_KEY", "BATCHPAY_THEDEX_API_SECRET"),
    "pontis": (
        "BATCHPAY_PONTIS_API_KEY",
        "BATCHPAY_PONTIS_ENCRYPTION_SECRET",
        "BATCHPAY_PONTIS_HMAC_SECRET",
        "BATCHPAY_PONTIS_EMAIL",
        "BATCHPAY_PONTIS_PASSWORD",
    ),
    "2328io": ("BATCHPAY_2328IO_PROJECT", "BATCHPAY_2328IO_PAYOUT_API_KEY"),
}
ENV_PREFIX = {
    "oxapay": "BATCHPAY_OXAPAY",
    "thedex": "BATCHPAY_THEDEX",
    "pontis": "BATCHPAY_PONTIS",
    "2328io": "BATCHPAY_2328IO",
}


def sandbox_state_path(ledger: Path) -> Path:
    return ledger.with_name(f"{ledger.stem}.sandbox{ledger.suffix or '.sqlite'}")


def check_provider_name(name: str) -> None:
    if name not in PROVIDERS:
        raise UsageError(f"unknown provider {name!r}; choose one of {', '.join(PROVIDERS)}")


def network_codes(name: str, settings: Settings) -> dict[str, str]:
    table = dict(load_schema_file("providers.toml").get(name, {}).get("networks", {}))
    table.update(settings.networks.get(name, {}))
    return table


def open_provider(
    name: str,
    settings: Settings,
    faults: FaultHook | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Provider:
    """Build the adapter for ``name`` from settings and environment (credentials, base URL)."""
    check_provider_name(name)
    if name == "sandbox":
        return SandboxProvider(SandboxBank(sandbox_state_path(settings.ledger)), faults)
    env = settings.env
    prefix = ENV_PREFIX[name]
    base_url = env.get(f"{prefix}_BASE_URL") or DEFAULT_BASE_URLS[name]
    grace = settings.grace_seconds.get(name, 900.0)
    # what every HTTP adapter takes besides its credentials
    http: dict[str, Any] = {
        "transport": transport,
        "connect_timeout": settings.connect_timeout,
        "read_timeout": settings.read_timeout,
    }
    if name == "oxapay":
        from batchpay.providers.oxapay import OxaPayAdapter

        return OxaPayAdapter(
            env.secret(f"{prefix}_PAYOUT_API_KEY"),
            base_url,
            network_codes(name, settings),
            grace_seconds=grace,
            **http,
        )
    if name == "thedex":
        from batchpay.providers.thedex import TheDexAdapter

        return TheDexAdapter(
            env.secret(f"{prefix}_API_KEY"),
            env.secret(f"{prefix}_API_SECRET"),
            base_url,
            network_codes(name, settings),
            grace_seconds=grace,
            **http,
        )
    if name == "pontis":
        from batchpay.providers.pontis import PontisAdapter

        return PontisAdapter(
            env.secret(f"{prefix}_API_KEY"),
            env.secret(f"{prefix}_ENCRYPTION_SECRET"),
            env.secret(f"{prefix}_HMAC_SECRET"),
            env.secret(f"{prefix}_EMAIL"),
            env.secret(f"{prefix}_PASSWORD"),
            base_url,
            **http,
        )
    from batchpay.providers.pay2328 import Pay2328Adapter

    memo_networks = load_schema_file("providers.toml").get("2328io", {}).get("memo_networks", [])
    return Pay2328Adapter(
        env.secret(f"{prefix}_PROJECT"),
        env.secret(f"{prefix}_PAYOUT_API_KEY"),
        base_url,
        network_codes(name, settings),
        frozenset(memo_networks),
        **http,
    )
