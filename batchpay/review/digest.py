"""The plan digest: SHA-256 over a canonical form of exactly what a batch will pay.

An approval signs this digest, so it covers everything that decides where money goes and how
much: the batch id, the provider, the fee option, and for each row its key, the amount to
send (after rounding), the currency, the network and the destination. A one-cent change, a
new address, a rounding policy that changes an amount, or another fee option each give
another digest. Display text (name, description) does not enter it.

The canonical form is JSON with sorted keys and no whitespace, UTF-8, rows sorted by row key,
amounts as plain decimal text without trailing zeros (``10.50`` and ``10.5`` are the same
amount). :func:`canonical_plan` returns the exact bytes hashed, so an auditor can re-hash
them offline.
"""

from __future__ import annotations

import hashlib
import json
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


def canonical_plan(plan: Plan, *, fee_option: str) -> bytes:
    """The exact bytes :func:`approval_digest` hashes (UTF-8 JSON, sorted keys, compact)."""
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
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def approval_digest(plan: Plan, *, fee_option: str) -> str:
    """Lowercase hex SHA-256 of :func:`canonical_plan`: 64 characters."""
    return hashlib.sha256(canonical_plan(plan, fee_option=fee_option)).hexdigest()
