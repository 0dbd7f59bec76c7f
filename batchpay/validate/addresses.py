"""Address checks per network family, with checksums. Mainnet only: a well-formed testnet
address is refused by policy (CONTRACT.md), with its own code so the user knows why.

Policy cases (decided here, documented in the README):
- Ethereum-family: mixed case must match EIP-55; all-lower or all-upper carries no checksum
  and is accepted with a warning.
- Litecoin: legacy "3..." P2SH is refused (it is indistinguishable from a Bitcoin address).
- Taproot: the 32-byte key must be a point on secp256k1.
- TRON: only the Base58Check form ("T..."), not the hex form ("41...").
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from batchpay.validate.bulkcodecs import b58check_payloads
from batchpay.validate.codecs import (
    RIPPLE_ALPHABET,
    b58check_decode,
    b58check_encode,
    b58decode,
    crc16_xmodem,
    keccak256,
    on_secp256k1,
    segwit_decode,
)


@dataclass(frozen=True)
class Verdict:
    code: str | None  # None: valid
    message: str = ""
    warning: bool = False

    @property
    def ok(self) -> bool:
        return self.code is None or self.warning


VALID = Verdict(None)


def _bad(message: str) -> Verdict:
    return Verdict("address.invalid", message)


def _testnet(what: str) -> Verdict:
    return Verdict("address.testnet", f"is a {what} testnet address; only mainnet is paid")


@dataclass(frozen=True)
class UtxoParams:
    name: str
    p2pkh: int
    p2sh: frozenset[int]
    hrp: str | None
    test_versions: frozenset[int]
    test_hrps: frozenset[str]


UTXO = {
    "bitcoin": UtxoParams(
        "Bitcoin", 0x00, frozenset({0x05}), "bc", frozenset({0x6F, 0xC4}), frozenset({"tb", "bcrt"})
    ),
    "litecoin": UtxoParams(
        "Litecoin",
        0x30,
        frozenset({0x32}),
        "ltc",
        frozenset({0x6F, 0x3A, 0xC4}),
        frozenset({"tltc", "rltc"}),
    ),
    "dogecoin": UtxoParams(
        "Dogecoin", 0x1E, frozenset({0x16}), None, frozenset({0x71, 0xC4}), frozenset()
    ),
}


def _utxo(params: UtxoParams, address: str) -> Verdict:
    prefix = address.split("1", 1)[0].lower() if "1" in address else ""
    if params.hrp and prefix == params.hrp:
        decoded = segwit_decode(params.hrp, address)
        if decoded is None:
            return _bad(f"is not a valid {params.name} bech32/bech32m address")
        version, program = decoded
        if version == 1 and len(program) == 32 and not on_secp256k1(program):
            return _bad("is a Taproot address whose key is not on the curve")
        return VALID
    if prefix in params.test_hrps:
        return _testnet(params.name)
    payload = b58check_decode(address)
    if payload is None or len(payload) != 21:
        return _bad(f"is not a valid {params.name} address (checksum or length)")
    version = payload[0]
    if version == params.p2pkh or version in params.p2sh:
        return VALID
    if version in params.test_versions:
        return _testnet(params.name)
    if params.name == "Litecoin" and version == 0x05:
        return _bad(
            "is a legacy '3...' P2SH address, indistinguishable from Bitcoin; use the 'M...' form"
        )
    return _bad(f"is not a {params.name} address (version byte {version:#04x})")


_HEX40 = re.compile(r"0x[0-9a-fA-F]{40}")


def eip55(address: str) -> str:
    digits = address[2:].lower()
    digest = keccak256(digits.encode()).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(digits))


def _evm(address: str) -> Verdict:
    if not _HEX40.fullmatch(address):
        return _bad("is not 0x followed by 40 hex digits")
    body = address[2:]
    if body == body.lower() or body == body.upper():
        return Verdict(
            "address.no_checksum",
            "has no EIP-55 checksum (all one case); check it carefully",
            warning=True,
        )
    if address != eip55(address):
        return Verdict("address.checksum", "fails its EIP-55 checksum (a typo?)")
    return VALID


def _tron(address: str) -> Verdict:
    payload = b58check_decode(address)
    if payload is None or len(payload) != 21:
        if re.fullmatch(r"41[0-9a-fA-F]{40}", address):
            return _bad("is in hex form; use the Base58 form starting with T")
        return _bad("is not a valid TRON address (checksum or length)")
    if payload[0] != 0x41:
        return _testnet("TRON") if payload[0] == 0xA0 else _bad("is not a TRON address")
    return VALID


def _solana(address: str) -> Verdict:
    raw = b58decode(address)
    if raw is None or len(raw) != 32:
        return _bad("is not a 32-byte base58 Solana address")
    return VALID


_TON_RAW = re.compile(r"(-?[0-9]+):([0-9a-fA-F]{64})")


def _ton(address: str) -> Verdict:
    raw = _TON_RAW.fullmatch(address)
    if raw:
        return VALID if raw.group(1) in ("0", "-1") else _bad("has an unknown TON workchain")
    if len(address) != 48:
        return _bad("is not a TON address (48-character or raw form)")
    try:
        data = base64.b64decode(address.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return _bad("is not valid base64")
    if len(data) != 36 or crc16_xmodem(data[:34]) != int.from_bytes(data[34:], "big"):
        return _bad("fails its TON checksum (CRC16)")
    tag, workchain = data[0], data[1]
    if tag & 0x80:
        return _testnet("TON")
    if tag not in (0x11, 0x51) or workchain not in (0x00, 0xFF):
        return _bad("has an unknown TON address tag or workchain")
    return VALID


def _xrp(address: str) -> Verdict:
    if address.startswith(("X", "T")) and len(address) > 40:
        payload = b58check_decode(address, RIPPLE_ALPHABET)
        if payload is None or len(payload) != 31:
            return _bad("is not a valid XRP X-address")
        if payload[:2] == b"\x04\x93":
            return _testnet("XRP")
        flag, tag = payload[22], payload[23:]
        if payload[:2] != b"\x05\x44" or flag > 1 or (flag == 0 and any(tag)) or any(tag[4:]):
            return _bad("is not a valid XRP X-address")
        return VALID
    payload = b58check_decode(address, RIPPLE_ALPHABET)
    if payload is None or len(payload) != 21 or payload[0] != 0x00:
        return _bad("is not a valid XRP classic address (checksum or length)")
    return VALID


@lru_cache(maxsize=65536)
def check_address(family: str, address: str) -> Verdict:
    """The verdict for one address (cached: the rules ask about each address more than once)."""
    if family in UTXO:
        return _utxo(UTXO[family], address)
    checks = {"evm": _evm, "tron": _tron, "solana": _solana, "ton": _ton, "xrp": _xrp}
    check = checks.get(family)
    if check is None:
        return _bad(f"cannot be checked: no rules for network family {family!r}")
    return check(address)


def payable(pairs: Sequence[tuple[str, str]]) -> list[bool]:
    """``address_problem(family, address) is None`` for each pair, a column at a time:
    mainnet TRON addresses (most of a crypto payroll) are accepted by the bulk decoder, and
    everything else gets the scalar check."""
    verdicts: list[bool | None] = [None] * len(pairs)
    tron = [i for i, (f, a) in enumerate(pairs) if f == "tron" and len(a) == 34 and a.isascii()]
    payloads = b58check_payloads([pairs[i][1] for i in tron], 34, 25)
    for i, payload in zip(tron, payloads, strict=True):
        if payload is not None and payload[0] == 0x41:
            verdicts[i] = True
    return [
        verdict if verdict is not None else address_problem(*pair) is None
        for verdict, pair in zip(verdicts, pairs, strict=True)
    ]


def address_problem(family: str, address: str) -> str | None:
    """Why ``address`` is refused (errors only), or None if it is payable."""
    verdict = check_address(family, address)
    return None if verdict.ok else verdict.message


# -- canonical forms -----------------------------------------------------------------------


@dataclass(frozen=True)
class Canonical:
    """One payable address in the form that is compared, sent and reported."""

    address: str  # the text sent to the provider and shown in the report
    identity: str  # what two addresses are compared by (equal: the same account)
    tag: int | None = None  # a destination tag the address itself carries (XRP X-address)


@lru_cache(maxsize=65536)
def canonical_address(family: str, address: str) -> Canonical:
    """The canonical form of an address that :func:`check_address` accepts:

    - bech32/bech32m (Bitcoin, Litecoin): lower case (upper case is the same address);
    - Ethereum family: the EIP-55 checksummed form;
    - TON: the user-friendly form in URL-safe base64 with the user's flags (bounceable or
      not), or the raw form in lower case; compared by workchain and account;
    - XRP: an X-address becomes its classic address plus the destination tag it carries;
    - Base58 forms (TRON, Solana, Dogecoin, legacy Bitcoin) are case-sensitive: as written.
    """
    hrp = UTXO[family].hrp if family in UTXO else None
    if hrp and address.lower().startswith(hrp + "1"):
        lower = address.lower()
        return Canonical(lower, lower)
    if family == "evm":
        # mixed case that passed EIP-55 already is the checksummed form (verdict cached)
        checksummed = address if check_address(family, address).code is None else eip55(address)
        return Canonical(checksummed, checksummed)
    if family == "ton":
        return _ton_canonical(address)
    if family == "xrp" and address.startswith("X") and len(address) > 40:
        payload = b58check_decode(address, RIPPLE_ALPHABET)
        if payload is not None and len(payload) == 31:
            classic = b58check_encode(b"\x00" + payload[2:22], RIPPLE_ALPHABET)
            tag = int.from_bytes(payload[23:27], "little") if payload[22] == 1 else None
            return Canonical(classic, classic, tag)
    return Canonical(address, address)


def _ton_canonical(address: str) -> Canonical:
    raw = _TON_RAW.fullmatch(address)
    if raw:
        text = f"{int(raw.group(1))}:{raw.group(2).lower()}"
        return Canonical(text, text)
    friendly = address.replace("+", "-").replace("/", "_")
    data = base64.urlsafe_b64decode(friendly)
    workchain = -1 if data[1] == 0xFF else data[1]
    return Canonical(friendly, f"{workchain}:{data[2:34].hex()}")


# -- what a wrong address looks like -------------------------------------------------------

FAMILY_NAMES = {
    "evm": "an Ethereum-family (EVM) address",
    "tron": "a TRON address",
    "solana": "a Solana address",
    "ton": "a TON address",
    "xrp": "an XRP address",
    "bitcoin": "a Bitcoin address",
    "litecoin": "a Litecoin address",
    "dogecoin": "a Dogecoin address",
}
_LINK = re.compile(
    r"(bitcoin|litecoin|dogecoin|ethereum|tron|solana|ton|ripple|xrp(?:l)?)\s*:", re.IGNORECASE
)


def looks_like(family: str, address: str) -> str:
    """A hint for an address refused on ``family``: the family it would be valid on, or the
    payment-link or embedded-tag form it is written in; "" when nothing fits."""
    if _LINK.match(address) or "?" in address:
        return (
            "; it is written as a payment link or with parameters, not a bare address: put "
            "the address alone in the address column and any tag or memo in the memo column"
        )
    guesses = [
        name
        for other, name in FAMILY_NAMES.items()
        if other != family and check_address(other, address).ok
    ]
    if not guesses:
        return ""
    return f"; it looks like {' or '.join(guesses)}: check the network column"
