"""Ed25519 keys as OpenSSH writes them, through ``cryptography``.

- :func:`load_signing_key`: the private key of the person at the keyboard (``BATCHPAY_SIGNING_KEY``,
  an OpenSSH private key file such as ``~/.ssh/id_ed25519``; its passphrase from
  ``BATCHPAY_SIGNING_KEY_PASSPHRASE`` or a prompt on a terminal). Never printed: the
  :class:`SigningKey` repr shows the fingerprint only.
- :func:`parse_public_key`: an ``ssh-ed25519 AAAA... comment`` line (the approvers file).
- :func:`fingerprint`: ``SHA256:`` + unpadded base64 of the SHA-256 of the key blob, exactly as
  ``ssh-keygen -l`` shows it.
- :func:`generate_key`: ``batchpay keygen`` (0600 private key, ``PATH.pub`` beside it).
- :func:`sign` / :func:`verify`: over a statement, with a domain prefix so that a batchpay
  signature can never be replayed as another protocol's.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from batchpay.errors import ConfigError, UsageError

KEY_VAR = "BATCHPAY_SIGNING_KEY"
PASSPHRASE_VAR = "BATCHPAY_SIGNING_KEY_PASSPHRASE"
DOMAIN = b"batchpay-approval-v1\n"  # prefixed to every signed statement
KEY_TYPE = "ssh-ed25519"

Prompt = Callable[[str], str]


def fingerprint(key: Ed25519PublicKey) -> str:
    """``SHA256:<base64, no padding>`` of the OpenSSH key blob, as ``ssh-keygen -l`` shows it."""
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def public_line(key: Ed25519PublicKey, comment: str = "") -> str:
    """The key as one ``ssh-ed25519 AAAA... comment`` line (an authorized_keys line)."""
    line = key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    return f"{line} {comment}".rstrip()


def parse_public_key(line: str) -> Ed25519PublicKey:
    """An ``ssh-ed25519 AAAA... [comment]`` line; raises ValueError saying what is wrong."""
    parts = line.split()
    if len(parts) < 2 or parts[0] != KEY_TYPE:
        raise ValueError(f'write the key as "{KEY_TYPE} AAAA... comment" (one line of a .pub file)')
    try:
        key = serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (ValueError, UnsupportedAlgorithm, binascii.Error):
        raise ValueError("the key is not a readable ssh-ed25519 public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"only {KEY_TYPE} keys are accepted")
    return key


class SigningKey:
    """An Ed25519 private key. Its repr shows the fingerprint, never the key."""

    __slots__ = ("_key", "fingerprint", "path")

    def __init__(self, key: Ed25519PrivateKey, path: Path | None = None) -> None:
        self._key = key
        self.path = path
        self.fingerprint = fingerprint(key.public_key())

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, statement: bytes) -> str:
        """The base64 Ed25519 signature over DOMAIN + ``statement``."""
        return base64.b64encode(self._key.sign(DOMAIN + statement)).decode()

    def __repr__(self) -> str:
        return f"SigningKey({self.fingerprint})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a SigningKey cannot be pickled")


def verify(key: Ed25519PublicKey, statement: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``key``'s over DOMAIN + ``statement``."""
    try:
        key.verify(base64.b64decode(signature, validate=True), DOMAIN + statement)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def _terminal_prompt(text: str) -> str:
    return getpass.getpass(text)


def load_signing_key(
    environ: Mapping[str, str] | None = None,
    *,
    prompt: Prompt | None = None,
    interactive: bool | None = None,
) -> SigningKey:
    """The signing key named by BATCHPAY_SIGNING_KEY. The passphrase (for an encrypted key)
    comes from BATCHPAY_SIGNING_KEY_PASSPHRASE, else ``prompt`` on a terminal. Raises
    ConfigError (exit 2) for a missing variable, an unreadable or malformed file, a key that
    is not Ed25519 or a wrong passphrase; the message never holds key material."""
    env = os.environ if environ is None else environ
    named = env.get(KEY_VAR)
    if not named:
        raise ConfigError(
            f"no signing key: set {KEY_VAR} to your OpenSSH Ed25519 private key "
            "(e.g. ~/.ssh/id_ed25519, or one made with `batchpay keygen PATH`)"
        )
    path = Path(named).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{KEY_VAR}: cannot read {path}: {exc.strerror or exc}") from None
    passphrase = env.get(PASSPHRASE_VAR) or None
    key = _load(data, path, passphrase.encode() if passphrase else None)
    if key is None:  # encrypted, and no passphrase in the environment
        if not (sys.stdin.isatty() if interactive is None else interactive):
            raise ConfigError(
                f"{path} is protected by a passphrase: set {PASSPHRASE_VAR} (no terminal to ask)"
            )
        typed = (prompt or _terminal_prompt)(f"Passphrase for {path}: ")
        key = _load(data, path, typed.encode())
        if key is None:
            raise ConfigError(f"{path}: a passphrase is needed")
    return SigningKey(key, path)


def _load(data: bytes, path: Path, passphrase: bytes | None) -> Ed25519PrivateKey | None:
    """The key, or None when it is encrypted and no passphrase was given."""
    try:
        key = serialization.load_ssh_private_key(data, passphrase)
    except TypeError:
        if passphrase is None:
            return None
        key = serialization.load_ssh_private_key(data, None)  # not encrypted after all
    except (ValueError, UnsupportedAlgorithm):
        what = "a wrong passphrase, or " if passphrase else ""
        raise ConfigError(
            f"{path} is not a usable OpenSSH private key ({what}not the OpenSSH format; "
            "ssh-keygen -t ed25519 writes one)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key; make one with `batchpay keygen PATH`")
    return key


def generate_key(path: Path, comment: str, passphrase: str | None = None) -> SigningKey:
    """Write a new Ed25519 private key to ``path`` (OpenSSH format, mode 0600, encrypted when
    a passphrase is given) and its public line to ``path.pub``; a missing folder is made
    (mode 0700). Raises UsageError if either file exists (a key is never overwritten) or
    cannot be written."""
    public_path = path.with_name(path.name + ".pub")
    for target in (path, public_path):
        if target.exists():
            raise UsageError(f"{target} exists; batchpay keygen never overwrites a key")
    try:  # `batchpay keygen keys/alice` with no keys/ yet: made, private to its owner
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make the folder {path.parent}: {exc.strerror or exc}") from None
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption
    )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # `keygen keys/alice`
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(path, 0o600)  # whatever the umask
        public_path.write_text(public_line(key.public_key(), comment) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the key {path}: {exc.strerror or exc}") from None
    return SigningKey(key, path)


def public_fingerprint(environ: Mapping[str, str] | None = None) -> str | None:
    """The fingerprint of the signing key from its ``.pub`` file beside it, without the
    passphrase (who is at the keyboard, for the audit log); None when there is none."""
    env = os.environ if environ is None else environ
    named = env.get(KEY_VAR)
    if not named:
        return None
    try:
        line = Path(named + ".pub").expanduser().read_text(encoding="utf-8").strip()
        return fingerprint(parse_public_key(line))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
