"""A signing key per web account, so that an approval in the browser is an Ed25519 signature
like the command line's (issue 16: "an approval in the browser counts like a signed one").

- :func:`new_web_key`: a new Ed25519 key for account NAME: its public line
  ``ssh-ed25519 AAAA... NAME (batchpay web)`` (the admin adds it to the approvers file under
  that person's name and role) and the private key *sealed* under the account's password.
- :func:`unseal`: the private key back, in memory, for one request, given the password
  (the step-up on the submit and approve forms); None for a wrong password.

The seal: a 32-byte key derived from the password by argon2id (argon2-cffi's
``hash_secret_raw``, its own random 16-byte salt, the parameters stored beside it), then
AES-256-GCM (``cryptography``) over the raw 32-byte private key, with the account name as
associated data (a sealed key copied to another account does not open). Stored as one line
``v1$argon2id$t=T,m=M,p=P$SALT$NONCE$CIPHERTEXT`` (base64). The private key is never stored
in clear, printed or logged: :class:`~batchpay.approvals.keys.SigningKey` shows only its
fingerprint.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from batchpay.approvals.keys import SigningKey, fingerprint, parse_public_key, public_line

VERSION = "v1"
TIME_COST, MEMORY_KIB, LANES = 3, 65536, 4  # argon2id: RFC 9106's second recommended option


@dataclass(frozen=True)
class WebKey:
    public_line: str  # ssh-ed25519 AAAA... NAME (batchpay web)
    fingerprint: str  # SHA256:... as ssh-keygen -l shows it
    sealed: str  # the private key, sealed under the password


def comment(name: str) -> str:
    return f"{name} (batchpay web)"


def _derive(password: str, salt: bytes, t: int, m: int, p: int) -> bytes:
    return hash_secret_raw(
        password.encode("utf-8"), salt, time_cost=t, memory_cost=m, parallelism=p,
        hash_len=32, type=Type.ID,
    )  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def seal(key: Ed25519PrivateKey, name: str, password: str) -> str:
    """``key`` encrypted under ``password`` for account ``name`` (see the module text)."""
    salt, nonce = os.urandom(16), os.urandom(12)
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    secret = _derive(password, salt, TIME_COST, MEMORY_KIB, LANES)
    box = AESGCM(secret).encrypt(nonce, raw, name.encode("utf-8"))
    params = f"t={TIME_COST},m={MEMORY_KIB},p={LANES}"
    return "$".join((VERSION, "argon2id", params, _b64(salt), _b64(nonce), _b64(box)))


def unseal(sealed: str, name: str, password: str) -> SigningKey | None:
    """The account's private key, or None when ``password`` does not open it (or the sealed
    text is not one this version wrote). Never raises for a wrong password."""
    try:
        version, kdf, params, salt, nonce, box = sealed.split("$")
        costs = dict(part.split("=") for part in params.split(","))
        t, m, p = int(costs["t"]), int(costs["m"]), int(costs["p"])
        if version != VERSION or kdf != "argon2id":
            return None
        secret = _derive(password, base64.b64decode(salt), t, m, p)
        raw = AESGCM(secret).decrypt(
            base64.b64decode(nonce), base64.b64decode(box), name.encode("utf-8")
        )
    except (ValueError, KeyError, InvalidTag):
        return None
    return SigningKey(Ed25519PrivateKey.from_private_bytes(raw))


def new_web_key(name: str, password: str) -> WebKey:
    """A new key for account ``name``: its public line, fingerprint and sealed private key."""
    key = Ed25519PrivateKey.generate()
    line = public_line(key.public_key(), comment(name))
    return WebKey(line, fingerprint(key.public_key()), seal(key, name, password))


def fingerprint_of(line: str) -> str:
    """The fingerprint of a stored public line."""
    return fingerprint(parse_public_key(line))


def roster_role(role: str) -> str:
    """The approvers-file role of a web role: an approver or admin approves, a preparer
    prepares (a viewer signs nothing and has no key)."""
    return "approver" if role in ("approver", "admin") else "preparer"


def approvers_entry(person: str, role: str, line: str) -> str:
    """The ``[[approver]]`` table to paste into approvers.toml for ``line``."""
    return f'[[approver]]\nname = "{person}"\nrole = "{role}"\nkey = "{line}"'
