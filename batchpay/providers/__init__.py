"""Provider adapters behind one interface (:class:`~batchpay.providers.base.Provider`).

Which providers exist, and where each one's adapter factory lives, is
:mod:`batchpay.registry`'s to say; :func:`open_provider` only asks it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batchpay import registry
from batchpay.config import Settings
from batchpay.errors import UsageError
from batchpay.providers.base import Answer, Disposition, PayoutRequest, Provider, Quote
from batchpay.providers.opening import Opening, network_codes
from batchpay.providers.sandbox import FaultHook, sandbox_state_path

if TYPE_CHECKING:
    import httpx  # the HTTP adapters import it; the sandbox and start-up do not need it

__all__ = [
    "Answer",
    "Disposition",
    "PayoutRequest",
    "Provider",
    "Quote",
    "network_codes",
    "open_provider",
    "sandbox_state_path",
]

# Derived from the registry, for messages: the credential variables each provider needs (in
# the order they are checked), and the prefix of its variables.
CREDENTIALS_HINT = {e.name: e.credential_vars for e in registry.entries() if e.env_prefix}
ENV_PREFIX = {e.name: e.env_prefix for e in registry.entries() if e.env_prefix}


def check_provider_name(name: str) -> None:
    if name not in registry.names():
        raise UsageError(f"unknown provider {name!r}; choose one of {', '.join(registry.names())}")


def open_provider(
    name: str,
    settings: Settings,
    faults: FaultHook | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Provider:
    """Build the adapter for ``name`` from settings and environment (credentials, base URL)."""
    check_provider_name(name)
    entry = registry.entry(name)
    factory: Any = registry.load(entry.adapter)
    adapter: Provider = factory(Opening(entry, settings, faults, transport))
    return adapter
