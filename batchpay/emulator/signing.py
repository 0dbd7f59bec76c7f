"""The emulation's own signing, encryption and JSON, written apart from the adapters'.

The emulation checks what the adapters send. If both sides shared one signing function, a
mistake in it would be made the same way on both sides and every test would pass; so nothing
here comes from :mod:`batchpay.providers`. Only the standard library's ``hmac``, ``hashlib``,
``base64`` and ``json``, and ``cryptography``'s AESGCM, are used, each the way the providers'
documentation describes it. Known-answer vectors in ``tests/emulator`` pin every function here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

GCM_TAG_BYTES = 16
GCM_IV_BYTES = 12


# -- JSON -----------------------------------------------------------------------------------


def to_json(value: Any) -> str:
    """Compact JSON in which a Decimal is written as its exact number literal (``10.120000``)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{to_json(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if isinstance(value, float):  # float-ok: refused, never written
        raise TypeError("a float must never be written as an amount; use Decimal")
    return json.dumps(value, ensure_ascii=False)


# -- primitives -----------------------------------------------------------------------------


def base64_text(data: bytes) -> str:
    """Standard, padded base64 (RFC 4648 section 4)."""
    return base64.standard_b64encode(data).decode("ascii")


def hex_hmac_sha256(key: bytes, message: bytes) -> str:
    return hmac.digest(key, message, hashlib.sha256).hex()


def hex_hmac_sha512(key: bytes, message: bytes) -> str:
    return hmac.digest(key, message, hashlib.sha512).hex()


def equal(received: str, expected: str) -> bool:
    """Constant-time comparison of two texts."""
    return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))


def unpadded_b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def from_b64url(text: str) -> bytes:
    """Decode base64url with or without its padding; ValueError on anything else."""
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


# -- OxaPay ---------------------------------------------------------------------------------


def oxapay_webhook_hmac(payout_api_key: str, body: bytes) -> str:
    """OxaPay's ``HMAC`` callback header: hex HMAC-SHA512 over the raw body."""
    return hex_hmac_sha512(payout_api_key.encode("utf-8"), body)


# -- TheDex ---------------------------------------------------------------------------------


def thedex_headers(api_key: str, secret: str, body: bytes) -> dict[str, str]:
    """``X-EX-PAYLOAD`` = base64 of the exact body; ``X-EX-SIGNATURE`` = hex HMAC-SHA512 of
    that base64 text, keyed with the secret (lower-case names, as the emulation reads them)."""
    payload = base64_text(body)
    return {
        "x-ex-apikey": api_key,
        "x-ex-payload": payload,
        "x-ex-signature": hex_hmac_sha512(secret.encode("utf-8"), payload.encode("ascii")),
    }


# -- 2328.io --------------------------------------------------------------------------------


def sign_2328(payout_api_key: str, body: bytes) -> str:
    """2328.io's ``sign``: hex HMAC-SHA256 over base64 of the exact body (b"" for a GET)."""
    return hex_hmac_sha256(payout_api_key.encode("utf-8"), base64_text(body).encode("ascii"))


# -- PontisGlobe ----------------------------------------------------------------------------


def pontis_key(secret: str) -> bytes:
    """A PontisGlobe secret (base64url, padding optional) as bytes; ValueError if it is not."""
    return from_b64url(secret.strip())


def pontis_seal(plaintext: bytes, key: bytes, iv: bytes) -> str:
    """AES-256-GCM with a 12-byte IV, written ``b64url(iv):b64url(tag):b64url(ciphertext)``."""
    if len(key) != 32 or len(iv) != GCM_IV_BYTES:
        raise ValueError("AES-256-GCM needs a 32-byte key and a 12-byte IV")
    sealed = AESGCM(key).encrypt(iv, plaintext, None)
    ciphertext, tag = sealed[:-GCM_TAG_BYTES], sealed[-GCM_TAG_BYTES:]
    return f"{unpadded_b64url(iv)}:{unpadded_b64url(tag)}:{unpadded_b64url(ciphertext)}"


def pontis_open(blob: str, key: bytes) -> bytes:
    """The plaintext of an envelope blob; ValueError if it is malformed or does not decrypt."""
    parts = blob.split(":")
    if len(parts) != 3:
        raise ValueError("expected iv:tag:ciphertext")
    iv, tag, ciphertext = (from_b64url(part) for part in parts)
    if len(key) != 32 or len(iv) != GCM_IV_BYTES or len(tag) != GCM_TAG_BYTES:
        raise ValueError("wrong key, IV or tag length")
    try:
        return AESGCM(key).decrypt(iv, ciphertext + tag, None)
    except InvalidTag as exc:
        raise ValueError("the blob does not decrypt with this key") from exc


def pontis_signature(hmac_key: bytes, timestamp: str, blob: str) -> str:
    """``x-signature``: hex HMAC-SHA256 over ``timestamp + "." + blob``."""
    return hex_hmac_sha256(hmac_key, timestamp.encode("ascii") + b"." + blob.encode("ascii"))


def pontis_webhook_signature(hmac_key: bytes, timestamp: str, body: bytes) -> str:
    """``x-pontis-signature``: ``sha256=`` + hex HMAC-SHA256 over ``timestamp + "." + body``."""
    return "sha256=" + hex_hmac_sha256(hmac_key, timestamp.encode("ascii") + b"." + body)
