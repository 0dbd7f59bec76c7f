"""Base58Check for a whole column at once, for the shapes a payroll sheet is full of.

Decoding base58 is big-integer arithmetic; in Python it costs about 5 µs an address, a third
of validating a row. Here every address of one length is decoded together with numpy, in
32-bit limbs, and only the double SHA-256 is done per address (hashlib, in C).

This is a fast *acceptance* path only. An address it accepts is one the scalar check in
:mod:`batchpay.validate.codecs` accepts too (tests hold the two to that); anything it does
not accept goes to the scalar check, which gives the exact reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from batchpay.validate.codecs import BITCOIN_ALPHABET

_CHUNK = 32_768  # rows decoded together: big enough for numpy, small enough for the cache
_NOT_A_DIGIT = 255
_MASK = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
_PAIR = np.uint64(58 * 58)
_FIFTY_EIGHT = np.uint64(58)


_BITCOIN = np.full(256, _NOT_A_DIGIT, dtype=np.uint8)  # byte -> base58 digit (Bitcoin alphabet)
_BITCOIN[[ord(char) for char in BITCOIN_ALPHABET]] = np.arange(58, dtype=np.uint8)


def b58check_payloads(texts: Sequence[str], length: int, size: int) -> list[bytes | None]:
    """For texts of exactly ``length`` characters that decode to exactly ``size`` bytes with a
    valid 4-byte checksum and no leading zero byte: the payload (``size - 4`` bytes).
    None for every other text, which the caller must then check the slow way."""
    result: list[bytes | None] = []
    for start in range(0, len(texts), _CHUNK):
        result += _decode_chunk(texts[start : start + _CHUNK], length, size)
    return result


def _decode_chunk(texts: Sequence[str], length: int, size: int) -> list[bytes | None]:
    if not texts:
        return []
    joined = "".join(texts)
    if len(joined) != len(texts) * length or not joined.isascii():
        raise ValueError("every text must be ASCII and exactly `length` characters")
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(texts), length)
    digits = _BITCOIN[chars].astype(np.uint64)
    good = ~(digits == _NOT_A_DIGIT).any(axis=1) & (digits[:, 0] != 0)  # '1' = a zero byte
    digits[~good] = 0
    value, overflow = _accumulate(digits, size)
    good &= ~overflow
    raw = _to_bytes(value, size)
    good &= raw[:, 0] != 0
    payload_size = size - 4
    payloads = raw[:, :payload_size].tobytes()
    checks = raw[:, payload_size:].tobytes()
    sha = hashlib.sha256
    result: list[bytes | None] = []
    for i, ok in enumerate(good.tolist()):
        if not ok:
            result.append(None)
            continue
        payload = payloads[i * payload_size : (i + 1) * payload_size]
        check = checks[i * 4 : (i + 1) * 4]
        result.append(payload if sha(sha(payload).digest()).digest()[:4] == check else None)
    return result


def _accumulate(digits: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The base58 number in little-endian 32-bit limbs, and where it needs more than
    ``size`` bytes."""
    rows, length = digits.shape
    limbs = (size * 8 + 31) // 32 + 1
    value = np.zeros((limbs, rows), dtype=np.uint64)
    overflow = np.zeros(rows, dtype=bool)
    used = 1
    start = length % 2
    if start:
        value[0] = digits[:, 0]
    for pos in range(start, length, 2):
        carry = digits[:, pos] * _FIFTY_EIGHT + digits[:, pos + 1]
        # the number grows by under 12 bits a step: only touch the limbs it can reach
        used = min(limbs, used + 1)
        for k in range(used):
            step = value[k] * _PAIR + carry
            value[k] = step & _MASK
            carry = step >> _SHIFT
        overflow |= carry != 0
    top_bits = size * 8 - (limbs - 1) * 32  # bits of the top limb that fit in size bytes
    if top_bits <= 0:
        overflow |= value[limbs - 1] != 0
        top_bits += 32
        overflow |= (value[limbs - 2] >> np.uint64(top_bits)) != 0
    else:
        overflow |= (value[limbs - 1] >> np.uint64(top_bits)) != 0
    return value, overflow


def _to_bytes(value: np.ndarray, size: int) -> np.ndarray:
    """Big-endian bytes, ``size`` of them per row."""
    limbs, rows = value.shape
    big_endian = value[::-1].T.astype(">u4")  # most significant limb first
    raw = np.ascontiguousarray(big_endian).view(np.uint8).reshape(rows, limbs * 4)
    return raw[:, limbs * 4 - size :]
