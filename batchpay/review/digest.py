"""The plan digest: SHA-256 over a canonical form of exactly what a batch will pay.

An approval signs this digest, so it covers everything that decides where money goes and how
much: the batch id, the provider, the fee option, and for each row its key, the amount to
send (after rounding), the currency, the network and the destination. A one-cent change, a
new address, a rounding policy that changes an amount, or another fee option each give
another digest, and so does a ``[networks.<provider>]`` override in batchpay.toml for a
network the plan pays on (it decides the chain). Display text (name, description) does not
enter it.

The canonical form is JSON with sorted keys and no whitespace, UTF-8, rows sorted by row key,
amounts as plain decimal text without trailing zeros (``10.50`` and ``10.5`` are the same
amount). :func:`canonical_plan` returns the exact bytes hashed, so an auditor can re-hash
them offline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from batchpay.model import PayoutRow
from batchpay.money import MONEY_CONTEXT, to_wire
from batchpay.records import Plan

__all__ = ["DIGEST_VERSION", "amount_text", "approval_digest", "canonical_plan", "destination"]

DIGEST_VERSION = 1  # bumped if the canonical form ever changes


def amount_text(value: Decimal) -> str:
    """An amount as the digest writes it: plain decimal text, no exponent, no trailing zeros."""
    return to_wire(value.normalize(MONEY_CONTEXT))


def destination(p: PayoutRow) -> dict[str, Any]:
    """Where a row's money goes, in the form the digest hashes: the canonical address and
    memo/tag (validation rewrites both to one spelling), and every provider column of the
    row (a fiat row's bank details, payout currency and method) exactly as sent."""
    return {
        "address": p.address,
        "memo": p.memo,
        "details": {str(k): str(v) for k, v in sorted(p.extra.items())},
    }


def network_codes(plan: Plan, overrides: Mapping[str, str] | None) -> dict[str, str]:
    """The provider network codes batchpay.toml overrides (``[networks.<provider>]``) for
    the networks this plan pays on: they decide on which chain the money goes."""
    used = {i.payout.network for i in plan.items}
    return {n: str(code) for n, code in sorted((overrides or {}).items()) if n in used}


def canonical_plan(
    plan: Plan, *, fee_option: str, networks: Mapping[str, str] | None = None
) -> bytes:
    """The exact bytes :func:`approval_digest` hashes (UTF-8 JSON, sorted keys, compact).
    ``networks``: batchpay.toml's ``[networks.<provider>]`` overrides; those the plan uses
    enter the form as ``network_codes`` (absent when none do)."""
    rows = [
        {
            "row_key": item.row_key,
            "amount": amount_text(item.payout.amount),
            "currency": item.payout.currency,
            "network": item.payout.network,
            "destination": destination(item.payout),
        }
        for item in sorted(plan.items, key=lambda i: i.row_key)
    ]
    form = {
        "version": DIGEST_VERSION,
        "batch": plan.batch,
        "provider": plan.provider,
        "fee_option": fee_option,
        "rows": rows,
    }
    codes = network_codes(plan, networks)
    if codes:
        form["network_codes"] = codes
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def approval_digest(
    plan: Plan, *, fee_option: str, networks: Mapping[str, str] | None = None
) -> str:
    """Lowercase hex SHA-256 of :func:`canonical_plan`: 64 characters."""
    return hashlib.sha256(
        canonical_plan(plan, fee_option=fee_option, networks=networks)
    ).hexdigest()
