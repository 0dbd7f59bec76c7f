from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import Existing, KeyForm, attempt_key, conflicts, make_plan, row_key


def _row(ref: str = "E-0001", amount: str = "10", address: str = "TA") -> PayoutRow:
    return PayoutRow(
        row=2,
        reference=ref,
        amount_requested=Decimal(amount),
        amount=Decimal(amount),
        rounding_delta=Decimal(0),
        currency="USDT",
        network="TRON",
        address=address,
    )


def test_keys_are_pinned_forever() -> None:
    """Changing these values would make a re-run of an old batch pay again: never change them."""
    key = row_key("payroll-2026-11", "E-0001")
    assert key == "e93a8a3ab168fc319e68b77c8b9cdd7d"
    assert attempt_key(key, 1, KeyForm.UUID) == "d2e40e08-cdcb-4886-b8b2-d5fd44e58f06"
    assert attempt_key(key, 2, KeyForm.UUID) == "609a628e-3ca5-4091-a323-25cfa4abb040"
    assert attempt_key(key, 1, KeyForm.TAG) == "bp-d2e40e08cdcb688678b2d5fd"


def test_keys_separate_batches_references_and_attempts() -> None:
    keys = {row_key(b, r) for b in ("a", "b", "a\x1fb") for r in ("1", "2", "b\x1f1")}
    assert len(keys) == 9
    attempts = {attempt_key("k", n, KeyForm.UUID) for n in range(1, 50)}
    assert len(attempts) == 49
    parsed = uuid.UUID(attempt_key("k", 1, KeyForm.UUID))
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    with pytest.raises(ValueError):
        attempt_key("k", 0, KeyForm.UUID)


def test_plan_totals_per_currency() -> None:
    rows = [
        _row("A", "1.5"),
        _row("B", "2.25"),
        PayoutRow(
            3,
            "C",
            Decimal("1.1234567"),
            Decimal("1.123456"),
            Decimal("-0.0000007"),
            "USDT",
            "TRON",
            "TA",
        ),
    ]
    plan = make_plan("b", "sandbox", "s.csv", "0" * 64, rows)
    totals = plan.totals()["USDT"]
    assert (totals.rows, totals.requested, totals.to_send, totals.rounding_delta) == (
        3,
        Decimal("4.8734567"),
        Decimal("4.873456"),
        Decimal("-0.0000007"),
    )
    assert [i.row_key for i in plan.items] == [row_key("b", r) for r in "ABC"]
    with pytest.raises(ValueError):
        make_plan(" ", "sandbox", "s.csv", "", rows)


def _existing(
    key: str, status: RowStatus, sent: bool, amount: str = "10", address: str = "TA"
) -> Existing:
    return Existing(key, "E-0001", status, sent, Decimal(amount), "USDT", "TRON", address, None)


def test_changed_details_under_a_sent_reference_are_refused() -> None:
    plan = make_plan("b", "sandbox", "s.csv", "", [_row(amount="12", address="TB")])
    key = plan.items[0].row_key
    (problem,) = conflicts(plan, {key: _existing(key, RowStatus.COMPLETED, sent=True)})
    assert problem.code == "plan.changed_after_send"
    assert problem.row == 2 and problem.column == "amount"
    assert "amount, address" in problem.message and "completed" in problem.message


def test_unsent_rows_may_change_and_equal_amounts_are_not_changes() -> None:
    plan = make_plan("b", "sandbox", "s.csv", "", [_row(amount="10.00")])
    key = plan.items[0].row_key
    assert conflicts(plan, {key: _existing(key, RowStatus.PLANNED, sent=False, amount="99")}) == []
    assert conflicts(plan, {key: _existing(key, RowStatus.PENDING, sent=True, amount="10")}) == []
