"""Small plans for the review tests, built from rows directly (no sheet, no pandas)."""

from __future__ import annotations

from decimal import Decimal

from batchpay.model import PayoutRow
from batchpay.plan import Plan, make_plan
from tests.conftest import TRON


def payout(
    row: int,
    reference: str,
    amount: str,
    *,
    address: str | None = None,
    memo: str | None = None,
    currency: str = "USDT",
    network: str | None = "TRON",
    extra: dict[str, str] | None = None,
    requested: str | None = None,
) -> PayoutRow:
    asked = Decimal(requested or amount)
    return PayoutRow(
        row=row,
        reference=reference,
        amount_requested=asked,
        amount=Decimal(amount),
        rounding_delta=Decimal(amount) - asked,
        currency=currency,
        network=network,
        address=address if address is not None or network is None else TRON[row % len(TRON)],
        memo=memo,
        name=f"Person {reference}",
        description="pay",
        extra=extra or {},
    )


def plan_of(batch: str, rows: list[PayoutRow], provider: str = "sandbox") -> Plan:
    return make_plan(batch, provider, "sheet.csv", "0" * 64, rows)
