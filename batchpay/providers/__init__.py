"""Provider adapters behind one interface (:class:`~batchpay.providers.base.Provider`)."""

from __future__ import annotations

from pathlib import Path

from batchpay.config import PROVIDERS, Settings
from batchpay.errors import ConfigError, UsageError
from batchpay.providers.base import Answer, Disposition, PayoutRequest, Provider, Quote
from batchpay.providers.sandbox import FaultHook, SandboxBank, SandboxProvider

__all__ = [
    "Answer",
    "Disposition",
    "PayoutRequest",
    "Provider",
    "Quote",
    "open_provider",
    "sandbox_state_path",
]

CREDENTIALS = {
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


def sandbox_state_path(ledger: Path) -> Path:
    return ledger.with_name(f"{ledger.stem}.sandbox{ledger.suffix or '.sqlite'}")


def check_provider_name(name: str) -> None:
    if name not in PROVIDERS:
        raise UsageError(f"unknown provider {name!r}; choose one of {', '.join(PROVIDERS)}")


def open_provider(name: str, settings: Settings, faults: FaultHook | None = None) -> Provider:
    check_provider_name(name)
    if name == "sandbox":
        return SandboxProvider(SandboxBank(sandbox_state_path(settings.ledger)), faults)
    for variable in CREDENTIALS[name]:
        settings.env.secret(variable)  # a missing credential is a ConfigError naming it
    raise ConfigError(
        f"the {name} adapter is not available in this version of batchpay; "
        "use --provider sandbox to try the full run"
    )
