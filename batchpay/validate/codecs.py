"""The encodings addresses are written in: base58 (two alphabets), Base58Check, bech32 and
bech32m (BIP-173, BIP-350), CRC16-XMODEM (TON), Keccak-256 (EIP-55)."""

from __future__ import annotations

import binascii
import hashlib

from Crypto.Hash import keccak

BITCOIN_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
RIPPLE_ALPHABET = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"


_INDEX = {
    alphabet: {ch: i for i, ch in enumerate(alphabet)}
    for alphabet in (BITCOIN_ALPHABET, RIPPLE_ALPHABET)
}
# two characters at a time: half the big-integer steps on the hot path of a large sheet
_PAIRS = {
    alphabet: {a + b: i * 58 + j for a, i in index.items() for b, j in index.items()}
    for alphabet, index in _INDEX.items()
}


def b58decode(text: str, alphabet: str = BITCOIN_ALPHABET) -> bytes | None:
    if not text:
        return None
    index, pairs = _INDEX[alphabet], _PAIRS[alphabet]
    odd = len(text) % 2
    try:
        number = index[text[0]] if odd else 0
        for i in range(odd, len(text), 2):
            number = number * 3364 + pairs[text[i : i + 2]]
    except KeyError:
        return None
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    leading = len(text) - len(text.lstrip(alphabet[0]))
    return b"\x00" * leading + body


def b58check_encode(payload: bytes, alphabet: str = BITCOIN_ALPHABET) -> str:
    """Payload plus its 4-byte double-SHA-256 checksum, in base58 (sample sheets, tests)."""
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(alphabet[rest])
    leading = len(data) - len(data.lstrip(b"\0"))
    return alphabet[0] * leading + "".join(reversed(digits))


def b58check_decode(text: str, alphabet: str = BITCOIN_ALPHABET) -> bytes | None:
    """The payload of a Base58Check string, or None if it does not decode or check."""
    raw = b58decode(text, alphabet)
    if raw is None or len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_CONST, BECH32M_CONST = 1, 0x2BC830A3


def _polymod(values: list[int]) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= generator[i] if (top >> i) & 1 else 0
    return check


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_decode(text: str) -> tuple[str, list[int], str] | None:
    """(hrp, data without checksum, "bech32" | "bech32m"), or None."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text) or len(text) > 90:
        return None
    if text.lower() != text and text.upper() != text:
        return None  # mixed case is never valid
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        return None
    hrp, tail = text[:pos], text[pos + 1 :]
    if any(c not in BECH32_CHARSET for c in tail):
        return None
    data = [BECH32_CHARSET.find(c) for c in tail]
    const = _polymod(_hrp_expand(hrp) + data)
    spec = {BECH32_CONST: "bech32", BECH32M_CONST: "bech32m"}.get(const)
    return None if spec is None else (hrp, data[:-6], spec)


def convertbits(data: list[int], frombits: int, tobits: int, pad: bool) -> list[int] | None:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad and bits:
        out.append((acc << (tobits - bits)) & maxv)
    elif not pad and (bits >= frombits or ((acc << (tobits - bits)) & maxv)):
        return None
    return out


def segwit_decode(hrp: str, text: str) -> tuple[int, bytes] | None:
    """(witness version, program) for a segwit address of ``hrp`` (BIP-173 and BIP-350)."""
    decoded = bech32_decode(text)
    if decoded is None or decoded[0] != hrp or not decoded[1]:
        return None
    _, data, spec = decoded
    version = data[0]
    program = convertbits(data[1:], 5, 8, False)
    if version > 16 or program is None or not 2 <= len(program) <= 40:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    if (version == 0) != (spec == "bech32"):
        return None  # v0 uses bech32, v1+ bech32m
    return version, bytes(program)


SECP256K1_P = 2**256 - 2**32 - 977


def on_secp256k1(x: bytes) -> bool:
    """Whether an x-only public key (BIP-340) is the x of a point on secp256k1."""
    value = int.from_bytes(x, "big")
    if value >= SECP256K1_P:
        return False
    rhs = (pow(value, 3, SECP256K1_P) + 7) % SECP256K1_P
    return pow(rhs, (SECP256K1_P - 1) // 2, SECP256K1_P) in (0, 1)


def crc16_xmodem(data: bytes) -> int:
    """CRC-16/XMODEM (poly 0x1021, init 0), as TON addresses carry it: the standard
    library's ``binascii.crc_hqx`` with a zero start value."""
    return binascii.crc_hqx(data, 0)


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()
