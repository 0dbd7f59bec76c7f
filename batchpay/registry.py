"""Every provider, in one place: one :class:`ProviderEntry` per provider.

An entry holds what the rest of batchpay needs to know about a provider: its name, its
environment variables and default base URL, its rate limit and grace period, its key form,
status table and memo networks, and where its adapter factory and callback verifier live.
``open_provider``, the configuration's provider list and rate limits, the webhook receiver and
the emulation's environment all read this registry.

The factory, verifier and status table are named by import path (``module:attribute``) and
loaded on first use, so this module imports only the standard library: the emulation may read
the environment names from here without importing a single adapter.

Adding a provider means writing its module (adapter factory and callback verifier, see
:mod:`batchpay.providers.oxapay`), one :func:`register` call or :data:`BUILTIN` entry, and its
rows in ``schemas/providers.toml`` (network codes, payable currencies).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "BUILTIN",
    "ProviderEntry",
    "entries",
    "entry",
    "names",
    "rate_limits",
    "register",
    "registered",
    "unregister",
]


def load(path: str) -> Any:
    """The object an import path ``package.module:attribute`` names."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class ProviderEntry:
    """One provider. ``env_prefix`` None: it needs no environment (the sandbox)."""

    name: str
    adapter: str  # "module:function" (an Opening) -> Provider
    env_prefix: str | None = None  # e.g. BATCHPAY_OXAPAY
    credentials: tuple[str, ...] = ()  # variable suffixes after the prefix, in checking order
    optional: tuple[str, ...] = ()  # suffixes of credentials only some calls need
    default_base_url: str | None = None
    rate_limit: float = 5.0  # float-ok: requests per second, 0 = unlimited
    grace_seconds: float = 900.0  # float-ok: seconds before "not found" means "never arrived"
    key_form: str = "uuid"  # batchpay.keys.KeyForm: "uuid" or "tag"
    statuses: str | None = None  # "module:NAME" of the provider status -> RowStatus table
    memo_networks: frozenset[str] = field(default_factory=frozenset)  # memo travels on these
    verifier: str | None = None  # "module:function" (entry, Environment) -> Verifier

    def var(self, suffix: str) -> str:
        """The full name of one of this provider's environment variables (``BASE_URL`` or
        one of its declared credentials); KeyError for a name it does not declare."""
        known = ("BASE_URL", *self.credentials, *self.optional)
        if self.env_prefix is None or suffix not in known:
            raise KeyError(f"{self.name} has no environment variable {suffix!r}")
        return f"{self.env_prefix}_{suffix}"

    @property
    def credential_vars(self) -> tuple[str, ...]:
        return tuple(self.var(suffix) for suffix in self.credentials)

    @property
    def optional_vars(self) -> tuple[str, ...]:
        return tuple(self.var(suffix) for suffix in self.optional)

    @property
    def emulator_path(self) -> str:
        """Where the local emulation serves this provider: ``/<name>`` plus the path of its
        default base URL (``/oxapay/v1`` for ``https://api.oxapay.com/v1``)."""
        return f"/{self.name}" + urlsplit(self.default_base_url or "").path.rstrip("/")


_ADAPTERS = "batchpay.providers"

BUILTIN: tuple[ProviderEntry, ...] = (
    ProviderEntry(
        name="oxapay",
        adapter=f"{_ADAPTERS}.oxapay:open_adapter",
        env_prefix="BATCHPAY_OXAPAY",
        credentials=("PAYOUT_API_KEY",),
        optional=("GENERAL_API_KEY",),  # the account balance call's key
        default_base_url="https://api.oxapay.com/v1",
        rate_limit=5.0,
        key_form="tag",
        statuses=f"{_ADAPTERS}.oxapay:STATUSES",
        verifier=f"{_ADAPTERS}.oxapay:callback_verifier",
    ),
    ProviderEntry(
        name="thedex",
        adapter=f"{_ADAPTERS}.thedex:open_adapter",
        env_prefix="BATCHPAY_THEDEX",
        credentials=("API_KEY", "API_SECRET"),
        default_base_url="https://app.thedex.cloud",
        rate_limit=5.0,
        key_form="tag",
        statuses=f"{_ADAPTERS}.thedex:STATUSES",
        verifier=f"{_ADAPTERS}.thedex:callback_verifier",
    ),
    ProviderEntry(
        name="pontis",
        adapter=f"{_ADAPTERS}.pontis:open_adapter",
        env_prefix="BATCHPAY_PONTIS",
        credentials=("API_KEY", "ENCRYPTION_SECRET", "HMAC_SECRET", "EMAIL", "PASSWORD"),
        default_base_url="https://api.pontisglobe.com",
        rate_limit=5.0,
        statuses=f"{_ADAPTERS}.pontis:STATUSES",
        verifier=f"{_ADAPTERS}.pontis:callback_verifier",
    ),
    ProviderEntry(
        name="2328io",
        adapter=f"{_ADAPTERS}.pay2328:open_adapter",
        env_prefix="BATCHPAY_2328IO",
        credentials=("PROJECT", "PAYOUT_API_KEY"),
        default_base_url="https://api.2328.io/api",
        rate_limit=10.0,  # 2328.io publishes 10/s per project; the others publish nothing
        statuses=f"{_ADAPTERS}.pay2328:STATUSES",
        memo_networks=frozenset({"TON", "SOLANA"}),
        verifier=f"{_ADAPTERS}.pay2328:callback_verifier",
    ),
    ProviderEntry(
        name="sandbox",
        adapter=f"{_ADAPTERS}.sandbox:open_adapter",
        rate_limit=0.0,  # in process: unlimited
    ),
)

_ENTRIES: dict[str, ProviderEntry] = {e.name: e for e in BUILTIN}


def names() -> tuple[str, ...]:
    return tuple(_ENTRIES)


def entries() -> tuple[ProviderEntry, ...]:
    return tuple(_ENTRIES.values())


def entry(name: str) -> ProviderEntry:
    """The entry for ``name`` (KeyError if no such provider is registered)."""
    return _ENTRIES[name]


def rate_limits() -> dict[str, float]:  # float-ok: requests per second
    return {e.name: e.rate_limit for e in _ENTRIES.values()}


def register(new: ProviderEntry) -> None:
    if new.name in _ENTRIES:
        raise ValueError(f"provider {new.name!r} is already registered")
    _ENTRIES[new.name] = new


def unregister(name: str) -> None:
    if any(e.name == name for e in BUILTIN):
        raise ValueError(f"provider {name!r} is built in")
    del _ENTRIES[name]


@contextmanager
def registered(new: ProviderEntry) -> Iterator[ProviderEntry]:
    """``new`` registered for the duration of a ``with`` block (tests, plug-ins)."""
    register(new)
    try:
        yield new
    finally:
        unregister(new.name)
