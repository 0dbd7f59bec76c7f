"""Find a provider's callback verifier through the registry, with its keys from the
environment. The verifiers themselves live beside each adapter (``verify_callback`` in
``batchpay.providers.<name>``); :mod:`batchpay.providers.callback` holds what they return."""

from __future__ import annotations

import hashlib
from typing import Any

from batchpay import registry
from batchpay.config import Environment
from batchpay.errors import ConfigError
from batchpay.providers.callback import MAX_DEPTH, Event, Rejected, Verifier, read_json

__all__ = ["MAX_DEPTH", "Event", "Rejected", "Verifier", "digest", "read_json", "verifier"]


def verifier(provider: str, env: Environment) -> Verifier:
    """The verifier for ``provider``, with its key from the environment (ConfigError if unset)."""
    entry = registry.entry(provider) if provider in registry.names() else None
    if entry is None or entry.verifier is None:
        raise ConfigError(f"no webhooks for provider {provider!r}")
    make: Any = registry.load(entry.verifier)
    checked: Verifier = make(entry, env)
    return checked


def digest(body: bytes) -> str:
    """A stable id for a delivery without an event id, so exact replays are recognised."""
    return hashlib.sha256(body).hexdigest()
