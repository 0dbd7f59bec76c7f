"""PontisGlobe's request envelope: AES-256-GCM with a fresh 12-byte IV, written as
``b64url(iv):b64url(tag):b64url(ciphertext)`` without padding, signed with HMAC-SHA256 over
``timestamp + "." + blob``."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from batchpay.providers.wire import b64url_decode, b64url_encode, hmac_hex

TAG_BYTES = 16


class EnvelopeError(ValueError):
    pass


def key_bytes(secret: str) -> bytes:
    """Decode a base64url secret (padding optional)."""
    try:
        return b64url_decode(secret.strip())
    except ValueError as exc:
        raise EnvelopeError("the secret is not base64url") from exc


def encrypt(plaintext: bytes, key: bytes, iv: bytes | None = None) -> str:
    if len(key) != 32:
        raise EnvelopeError("the encryption key must be 32 bytes (AES-256)")
    iv = iv if iv is not None else os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, plaintext, None)
    ciphertext, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    return ":".join(b64url_encode(part) for part in (iv, tag, ciphertext))


def decrypt(blob: str, key: bytes) -> bytes:
    parts = blob.split(":")
    if len(parts) != 3:
        raise EnvelopeError("expected iv:tag:ciphertext")
    try:
        iv, tag, ciphertext = (b64url_decode(p) for p in parts)
        return AESGCM(key).decrypt(iv, ciphertext + tag, None)
    except (InvalidTag, ValueError) as exc:
        raise EnvelopeError("the blob does not decrypt with this key") from exc


def signature(hmac_key: bytes, timestamp: str, blob: str) -> str:
    return hmac_hex(hmac_key, f"{timestamp}.{blob}".encode(), "sha256")
