"""The bulk Base58Check decoder accepts exactly what the scalar check accepts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchpay.validate.addresses import address_problem, payable
from batchpay.validate.bulkcodecs import b58check_payloads
from batchpay.validate.codecs import BITCOIN_ALPHABET, b58check_decode, b58check_encode
from tests.conftest import TRON


def _check(payload: bytes) -> str:
    return b58check_encode(payload)


def _generated(count: int) -> list[str]:
    rng = random.Random(11)
    return [_check(bytes([0x41]) + rng.randbytes(20)) for _ in range(count)]


def test_known_tron_addresses_decode_as_the_scalar_decoder_does() -> None:
    addresses = [*TRON, *_generated(500)]
    assert b58check_payloads(addresses, 34, 25) == [b58check_decode(a) for a in addresses]


def test_every_kind_of_wrong_falls_to_the_slow_path() -> None:
    good = TRON[0]
    cases = [
        good[:-1] + ("2" if good[-1] != "2" else "3"),  # checksum broken
        "1" + good[1:],  # leading zero byte
        "z" * 34,  # too large for 25 bytes
        good[:10] + "0" + good[11:],  # '0' is not base58
        good[:10] + "O" + good[11:],  # nor 'O'
        _check(bytes([0x40]) + bytes(20)),  # decodes, but the prefix is not TRON's
    ]
    decoded = b58check_payloads(cases, 34, 25)
    assert decoded[:5] == [None] * 5
    assert decoded[5] == b58check_decode(cases[5])  # the caller judges the prefix
    assert payable([("tron", c) for c in cases]) == [
        address_problem("tron", c) is None for c in cases
    ]


def test_mixed_families_keep_their_order_and_verdicts() -> None:
    pairs = [
        ("tron", TRON[1]),
        ("evm", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        ("tron", "TXYZ"),
        ("tron", "ünicode" + TRON[0][7:]),
        ("evm", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
        ("tron", TRON[2]),
    ]
    assert payable(pairs) == [address_problem(f, a) is None for f, a in pairs]
    assert payable(pairs) == [True, True, False, False, False, True]


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        b58check_payloads(["T" * 33], 34, 25)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=BITCOIN_ALPHABET, min_size=34, max_size=34))
def test_any_34_character_string_gets_the_scalar_verdict(text: str) -> None:
    assert payable([("tron", text)]) == [address_problem("tron", text) is None]
    fast = b58check_payloads([text], 34, 25)[0]
    if fast is not None:
        assert fast == b58check_decode(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=20, max_size=20), st.integers(0, 33), st.sampled_from(BITCOIN_ALPHABET))
def test_one_character_typos_are_caught_as_the_scalar_check_does(
    body: bytes, position: int, char: str
) -> None:
    address = _check(b"\x41" + body)
    typo = address[:position] + char + address[position + 1 :]
    assert payable([("tron", typo)]) == [address_problem("tron", typo) is None]


def test_encoding_round_trips_through_the_scalar_decoder() -> None:
    for payload in (b"\x41" + bytes(20), b"\x00\x00" + bytes(range(19)), b"\xff" * 21):
        assert b58check_decode(b58check_encode(payload)) == payload
    assert b58check_encode(bytes.fromhex("41" + "00" * 20)) == "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"
