"""Every public address vector (BIP-173/350, Bitcoin Core, Litecoin and Dogecoin key_io,
EIP-55, TronWeb, tronpy, ton-core, solders, xrpl-py, multicoin; copied as facts into
data/address_vectors.json with their sources): every valid mainnet address accepted, every
invalid one refused, testnet refused by policy, and the policy cases below pinned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchpay.validate.addresses import check_address, eip55

VECTORS = json.loads((Path(__file__).parent / "data" / "address_vectors.json").read_text())
FAMILY = {
    "bitcoin": "bitcoin",
    "litecoin": "litecoin",
    "dogecoin": "dogecoin",
    "ethereum": "evm",
    "tron": "tron",
    "ton": "ton",
    "solana": "solana",
    "xrp": "xrp",
}
TESTNETS = {"test", "testnet4", "signet", "regtest"}

# address -> (accepted?, why). Each is a decision, documented in the README.
POLICY = {
    # Taproot keys that are not on secp256k1: Bitcoin Core decodes them, but coins sent there
    # can never be spent. batchpay refuses them (bitcoinjs-lib does too).
    "bc1pve739yap4uxjvfk0jrey69078u0gasm2nwvv483ec6zkzulgw9xqu4w9fd": (False, "off-curve"),
    "ltc1p59fcnxdn05t6adags3dc0vuvm4ejd7chsspp9ryqkvvlxrwkdylqfsruty": (False, "off-curve"),
    "bc1pllllllllllllllllllllllllllllllllllllllllllllallllshsdfvw2y": (False, "off-curve"),
    # labelled chain "any" by its source, but its version byte (0x6F) is testnet
    "mptPo5AvLzJXi4T82vR6g82fT5uJ6HsQCu": (False, "testnet version byte"),
    # TRON's testnets use the mainnet prefix: no address can tell them apart
    "TUBBzKNM9gr687ucwj8fvVS2Sf2e4WseVa": (True, "indistinguishable from mainnet"),
    # TRON hex form: valid to TronWeb, refused here so sheets hold one readable form
    "4165cfbd57fa4f20687b2c33f84c4f9017e5895d49": (False, "hex form"),
}


def _expected(vector: dict[str, object]) -> bool:
    if vector["address"] in POLICY:
        return POLICY[str(vector["address"])][0]
    return bool(vector["valid"]) and vector.get("chain") not in TESTNETS


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v['network']}:{v['address'][:24]}")
def test_vector(vector: dict[str, object]) -> None:
    verdict = check_address(FAMILY[str(vector["network"])], str(vector["address"]))
    assert verdict.ok is _expected(vector), (vector, verdict)
    if vector["valid"] and vector.get("chain") in TESTNETS and vector["address"] not in POLICY:
        assert verdict.code == "address.testnet", verdict


def test_the_policy_cases_are_vectors() -> None:
    addresses = {v["address"] for v in VECTORS}
    assert set(POLICY) <= addresses


def test_eip55_checksum_examples() -> None:
    # EIP-55's own examples
    for address in (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ):
        assert eip55(address.lower()) == address
        assert check_address("evm", address).code is None
    typo = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"
    assert check_address("evm", typo).code == "address.checksum"
    lower = check_address("evm", typo.lower())
    assert lower.ok and lower.warning and lower.code == "address.no_checksum"
