"""Lookup tables from ``schemas/``: networks and decimal scales."""

from __future__ import annotations

import difflib
import functools
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
        """The canonical name of a network spelling; "TRC-20" and "Arbitrum_One" count as
        "TRC20" and "ARBITRUM ONE" (separators are not part of a network's name)."""
        key = text.strip().upper()
        found = self.network_aliases.get(key)
        return found if found is not None else self._squeezed_aliases.get(_squeeze(key))

    @functools.cached_property
    def _squeezed_aliases(self) -> dict[str, str]:
        return {_squeeze(k): v for k, v in self.network_aliases.items()}

    def close_to(self, column: str, text: str) -> str | None:
        """The known currency or network spelling nearest ``text`` (a typo), or None."""
        words = (
            list(self.network_aliases)
            if column == "network"
            else list(self.currency_scale)
            + [c for table in self.provider_scale.values() for c in table if "_" not in c]
        )
        close = difflib.get_close_matches(text.strip().upper(), words, n=1, cutoff=0.75)
        if not close:
            return None
        return self.network_aliases[close[0]] if column == "network" else close[0]

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


def _squeeze(text: str) -> str:
    return re.sub(r"[\s\-_.]+", "", text)


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
