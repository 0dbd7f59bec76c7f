"""The emulation's own test credentials (not secrets: they only open the local emulation)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from batchpay import registry
from batchpay.emulator.signing import unpadded_b64url


def _b64key(label: str) -> str:
    return unpadded_b64url(hashlib.sha256(label.encode()).digest())


@dataclass(frozen=True)
class EmulatorKeys:
    oxapay_key: str = "sandbox-oxapay-payout-key"
    oxapay_general_key: str = "sandbox-oxapay-general-key"  # the balance call's
    thedex_key: str = "sandbox-thedex-key"
    thedex_secret: str = "sandbox-thedex-secret"
    pontis_api_key: str = "sandbox-pontis-key"
    pontis_encryption_secret: str = _b64key("pontis-encryption")
    pontis_hmac_secret: str = _b64key("pontis-hmac")
    pontis_email: str = "payroll@example.com"
    pontis_password: str = "sandbox-password"
    project_2328: str = "0b8d3a52-2328-4c1e-9a8f-5e1d2328a001"
    key_2328: str = "sandbox-2328-payout-key"

    def credentials(self) -> dict[str, dict[str, str]]:
        """Provider -> credential (its variable's suffix in the registry) -> value."""
        return {
            "oxapay": {
                "PAYOUT_API_KEY": self.oxapay_key,
                "GENERAL_API_KEY": self.oxapay_general_key,
            },
            "thedex": {"API_KEY": self.thedex_key, "API_SECRET": self.thedex_secret},
            "pontis": {
                "API_KEY": self.pontis_api_key,
                "ENCRYPTION_SECRET": self.pontis_encryption_secret,
                "HMAC_SECRET": self.pontis_hmac_secret,
                "EMAIL": self.pontis_email,
                "PASSWORD": self.pontis_password,
            },
            "2328io": {"PROJECT": self.project_2328, "PAYOUT_API_KEY": self.key_2328},
        }

    def env(self, base_url: str) -> dict[str, str]:
        """Environment variables that point the real adapters at an emulation at ``base_url``;
        the variables' names are the registry's (which imports no adapter)."""
        base = base_url.rstrip("/")
        env: dict[str, str] = {}
        for name, values in self.credentials().items():
            entry = registry.entry(name)
            env.update({entry.var(suffix): value for suffix, value in values.items()})
            env[entry.var("BASE_URL")] = base + entry.emulator_path
        return env
