"""Provider callbacks: verify the signature, then record the event once on the attempt whose
payout it names (:func:`batchpay.ledger.apply_callback`). It moves the row only for the row's
current attempt, never while the row is in flight, and never out of a final state, except
that accepted news of a failed row puts it in review. ``handle`` is the whole job;
:mod:`batchpay.webhooks.server` serves it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from batchpay import registry
from batchpay.config import Environment
from batchpay.errors import ConfigError
from batchpay.ledger import CallbackResult, Ledger, Location, apply_callback
from batchpay.webhooks.verify import Event, Rejected, Verifier, digest, verifier

__all__ = ["Receiver", "Reply"]


def webhook_providers() -> tuple[str, ...]:
    """The registered providers that send callbacks (every one with a verifier)."""
    return tuple(e.name for e in registry.entries() if e.verifier is not None)


@dataclass(frozen=True)
class Reply:
    status: int
    text: str


class Receiver:
    """Verifies and applies callbacks for every provider whose credentials are set."""

    def __init__(
        self, ledger_path: Location, env: Environment, clock: Callable[[], float] = time.time
    ) -> None:  # float-ok: unix seconds
        self.ledger_path = ledger_path
        self.clock = clock
        self.verifiers: dict[str, Verifier] = {}
        self.missing: dict[str, str] = {}
        self.providers = webhook_providers()
        for provider in self.providers:
            try:
                self.verifiers[provider] = verifier(provider, env)
            except ConfigError as exc:
                self.missing[provider] = str(exc)

    def handle(self, provider: str, headers: Mapping[str, str], body: bytes) -> Reply:
        if provider not in self.providers:
            return Reply(404, "unknown provider")
        check = self.verifiers.get(provider)
        if check is None:
            return Reply(503, f"{provider} webhooks are not configured")
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            verdict = check(lowered, body, self.clock())
        except (ValueError, TypeError):
            return Reply(400, "malformed callback")
        if isinstance(verdict, Rejected):
            return Reply(verdict.http_status, verdict.reason)
        return self._apply(verdict, body)

    def _apply(self, event: Event, body: bytes) -> Reply:
        with Ledger(self.ledger_path) as ledger:
            result = apply_callback(
                ledger,
                event.provider,
                event.provider_ref,
                event.status,
                event.event_id or digest(body),
                event.tx_hash,
                event.message,
            )
        if result is CallbackResult.UNKNOWN_PAYOUT:
            return Reply(202, "no such payout in this ledger; ignored")
        return Reply(200, str(result))
