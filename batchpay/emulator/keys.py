"""The emulation's own test credentials (not secrets: they only open the local emulation)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from batchpay.emulator.signing import unpadded_b64url


def _b64key(label: str) -> str:
    return unpadded_b64url(hashlib.sha256(label.encode()).digest())


@dataclass(frozen=True)
class EmulatorKeys:
    oxapay_key: str = "sandbox-oxapay-payout-key"
    thedex_key: str = "sandbox-thedex-key"
    thedex_secret: str = "sandbox-thedex-secret"
    pontis_api_key: str = "sandbox-pontis-key"
    pontis_encryption_secret: str = _b64key("pontis-encryption")
    pontis_hmac_secret: str = _b64key("pontis-hmac")
    pontis_email: str = "payroll@example.com"
    pontis_password: str = "sandbox-password"
    project_2328: str = "0b8d3a52-2328-4c1e-9a8f-5e1d2328a001"
    key_2328: str = "sandbox-2328-payout-key"

    def env(self, base_url: str) -> dict[str, str]:
        """Environment variables that point the real adapters at an emulation at ``base_url``."""
        base = base_url.rstrip("/")
        return {
            "BATCHPAY_OXAPAY_PAYOUT_API_KEY": self.oxapay_key,
            "BATCHPAY_OXAPAY_BASE_URL": f"{base}/oxapay/v1",
            "BATCHPAY_THEDEX_API_KEY": self.thedex_key,
            "BATCHPAY_THEDEX_API_SECRET": self.thedex_secret,
            "BATCHPAY_THEDEX_BASE_URL": f"{base}/thedex",
            "BATCHPAY_PONTIS_API_KEY": self.pontis_api_key,
            "BATCHPAY_PONTIS_ENCRYPTION_SECRET": self.pontis_encryption_secret,
            "BATCHPAY_PONTIS_HMAC_SECRET": self.pontis_hmac_secret,
            "BATCHPAY_PONTIS_EMAIL": self.pontis_email,
            "BATCHPAY_PONTIS_PASSWORD": self.pontis_password,
            "BATCHPAY_PONTIS_BASE_URL": f"{base}/pontis",
            "BATCHPAY_2328IO_PROJECT": self.project_2328,
            "BATCHPAY_2328IO_PAYOUT_API_KEY": self.key_2328,
            "BATCHPAY_2328IO_BASE_URL": f"{base}/2328io/api",
        }
