"""Lookup tables from ``schemas/``: networks and decimal scales."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from batchpay.resources import load_schema_file


@dataclass(frozen=True)
class Network:
    name: str
    family: str
    memo: str | None  # None: no memo on this network; "text" or "numeric"


@dataclass(frozen=True)
class Tables:
    networks: dict[str, Network]
    network_aliases: dict[str, str]  # any spelling (upper case) -> canonical name
    currency_scale: dict[str, int]
    network_scale: dict[str, dict[str, int]]
    provider_scale: dict[str, dict[str, int]]

    def canonical_network(self, text: str) -> str | None:
        return self.network_aliases.get(text.strip().upper())

    def known_currency(self, currency: str) -> bool:
        return currency in self.currency_scale or any(
            currency in table for table in self.provider_scale.values()
        )

    def split_pair(self, text: str) -> tuple[str, str] | None:
        """``USDT-TRC20``, ``USDT_TRON``, ``TRC20 USDT``, ``USDTTRC20``: a currency and a
        network written as one token, as (currency, canonical network); None otherwise."""
        token = text.strip().upper()
        parts = [p for p in re.split(r"[\s\-_/:.()\[\]@]+", token) if p]
        splits = (
            [(parts[0], parts[1]), (parts[1], parts[0])]
            if len(parts) == 2
            else [(token[:i], token[i:]) for i in range(2, len(token) - 1)]
        )
        for currency, network in splits:
            canonical = self.canonical_network(network)
            if canonical is not None and self.known_currency(currency):
                return currency, canonical
        return None

    def scale(self, currency: str, network: str | None, provider: str | None) -> int | None:
        """Allowed decimal places, most specific table first; None if the currency is unknown."""
        by_provider = self.provider_scale.get(provider or "", {})
        for key in (f"{currency}_{network}" if network else None, currency):
            if key and key in by_provider:
                return by_provider[key]
        if network and currency in self.network_scale.get(network, {}):
            return self.network_scale[network][currency]
        return self.currency_scale.get(currency)


@cache
def load_tables() -> Tables:
    nets = load_schema_file("networks.toml")
    networks: dict[str, Network] = {}
    aliases: dict[str, str] = {}
    for name, spec in nets.items():
        networks[name] = Network(name, spec["family"], spec.get("memo"))
        aliases[name.upper()] = name
        for alias in spec.get("aliases", []):
            aliases[alias.upper()] = name
    scales = load_schema_file("scales.toml")
    return Tables(
        networks=networks,
        network_aliases=aliases,
        currency_scale=dict(scales.get("currency", {})),
        network_scale={k: dict(v) for k, v in scales.get("network", {}).items()},
        provider_scale={k: dict(v) for k, v in scales.get("provider", {}).items()},
    )
