"""What :func:`batchpay.providers.open_provider` hands a provider's adapter factory: its
registry entry, the settings, and the run's transport and fault hook, with the readings every
factory needs (credentials, base URL, network codes, grace period, HTTP options)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from batchpay.config import Secret, Settings
from batchpay.providers.base import PayoutRequest
from batchpay.registry import ProviderEntry
from batchpay.resources import load_schema_file


def network_codes(name: str, settings: Settings) -> dict[str, str]:
    """Canonical network -> the provider's code: schemas/providers.toml under batchpay.toml."""
    table = dict(load_schema_file("providers.toml").get(name, {}).get("networks", {}))
    table.update(settings.networks.get(name, {}))
    return table


@dataclass(frozen=True)
class Opening:
    entry: ProviderEntry
    settings: Settings
    faults: Callable[[str, PayoutRequest], str | None] | None = None
    transport: httpx.BaseTransport | None = None

    def secret(self, suffix: str) -> Secret:
        """One of the provider's credentials (ConfigError if unset)."""
        return self.settings.env.secret(self.entry.var(suffix))

    @property
    def base_url(self) -> str:
        override = self.settings.env.get(self.entry.var("BASE_URL"))
        url = override or self.entry.default_base_url
        if url is None:
            raise KeyError(f"{self.entry.name} has no base URL")
        return url

    @property
    def networks(self) -> dict[str, str]:
        return network_codes(self.entry.name, self.settings)

    @property
    def grace_seconds(self) -> float:  # float-ok: seconds
        return self.settings.grace_seconds.get(self.entry.name, self.entry.grace_seconds)

    @property
    def http(self) -> dict[str, Any]:
        """What every HTTP adapter takes besides its credentials."""
        return {
            "transport": self.transport,
            "connect_timeout": self.settings.connect_timeout,
            "read_timeout": self.settings.read_timeout,
        }
