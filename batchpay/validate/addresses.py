"""Address checks per network family.

This first gate checks the shape (alphabet, prefix, length) of each family's address forms.
"""

from __future__ import annotations

import re

_B58 = "1-9A-HJ-NP-Za-km-z"
_BECH32 = "02-9ac-hj-np-z"

_SHAPES: dict[str, list[re.Pattern[str]]] = {
    "evm": [re.compile(r"0x[0-9a-fA-F]{40}")],
    "tron": [re.compile(rf"T[{_B58}]{{33}}")],
    "solana": [re.compile(rf"[{_B58}]{{32,44}}")],
    "ton": [re.compile(r"[A-Za-z0-9_\-+/]{48}"), re.compile(r"-?[0-9]{1,3}:[0-9a-fA-F]{64}")],
    "bitcoin": [re.compile(rf"[13][{_B58}]{{25,34}}"), re.compile(rf"bc1[{_BECH32}]{{11,71}}")],
    "litecoin": [re.compile(rf"[LM3][{_B58}]{{26,33}}"), re.compile(rf"ltc1[{_BECH32}]{{11,71}}")],
    "dogecoin": [re.compile(rf"[DA9][{_B58}]{{25,34}}")],
    "xrp": [re.compile(rf"r[{_B58}]{{24,34}}")],
}


def address_problem(family: str, address: str) -> str | None:
    """Why ``address`` is not a valid mainnet address of ``family``, or None if it is."""
    patterns = _SHAPES.get(family)
    if patterns is None:
        return f"no address check exists for network family {family!r}"
    candidate = address.lower() if address[:3].lower() in {"bc1", "ltc"} else address
    if any(p.fullmatch(candidate) for p in patterns):
        return None
    return f"is not a valid {family} address"
