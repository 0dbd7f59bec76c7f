"""A provider's echo of an address is compared in the address family's own terms: the
canonical form we send (EIP-55, lower-case bech32) may come back in another case."""

from __future__ import annotations

import pytest

from batchpay.providers.base import same_address
from batchpay.providers.boundary import _parse_json

EIP55 = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
BECH32 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
TRON = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"


@pytest.mark.parametrize(
    ("ours", "theirs", "same"),
    [
        (EIP55, EIP55.lower(), True),  # a provider that lower-cases hex names the same account
        (EIP55, EIP55.upper().replace("0X", "0x"), True),
        (BECH32, BECH32.upper(), True),
        (TRON, TRON, True),
        (TRON, TRON.lower(), False),  # Base58 is case-sensitive: another address
        (TRON, TRON.swapcase(), False),
        (EIP55, "0x" + "0" * 40, False),
        (BECH32, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", False),
    ],
)
def test_same_address(ours: str, theirs: str, same: bool) -> None:
    assert same_address(ours, theirs) is same


def test_an_answer_nested_past_the_stack_is_unreadable_not_a_crash() -> None:
    assert _parse_json(b"[" * 100_000) is None
