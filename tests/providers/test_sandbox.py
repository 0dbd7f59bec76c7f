from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from batchpay import api
from batchpay.config import Settings
from batchpay.jsonout import run_json
from batchpay.model import RowStatus
from batchpay.providers.base import Disposition, PayoutRequest
from batchpay.providers.sandbox import (
    SandboxBank,
    SandboxProvider,
    simulated_cents,
    simulated_outcomes,
)


def _request(amount: str, key: str = "k1", fee_option: str = "deduct") -> PayoutRequest:
    return PayoutRequest(
        row_key="r",
        attempt=1,
        key=key,
        reference="E-1",
        amount=Decimal(amount),
        currency="USDT",
        network="TRON",
        address="TA",
        fee_option=fee_option,
    )


@pytest.mark.parametrize(
    ("amount", "status", "disposition", "code"),
    [
        ("10.00", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        ("10.01", RowStatus.FAILED, Disposition.OPERATOR, "insufficient_funds"),
        ("10.02", RowStatus.FAILED, Disposition.FINAL, "recipient_not_found"),
        ("10.03", RowStatus.PENDING, Disposition.ACCEPTED, None),
        ("10.04", RowStatus.FAILED, Disposition.FINAL, "network_error"),
        ("7", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        # realistic amounts with more (or fewer) decimals than two always complete
        ("10.049", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        ("0.0233", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        ("0.0439", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        ("0.01444553", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        ("0.0133", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        ("10.010", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        ("10.1", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        ("10.05", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
        ("0.02", RowStatus.FAILED, Disposition.FINAL, "recipient_not_found"),
    ],
)
def test_cents_decide_the_outcome(
    amount: str, status: RowStatus, disposition: Disposition, code: str | None
) -> None:
    provider = SandboxProvider(SandboxBank())
    answer = provider.create(_request(amount))
    assert (answer.status, answer.disposition, answer.error_code) == (status, disposition, code)


def test_same_key_returns_the_same_payout() -> None:
    bank = SandboxBank()
    provider = SandboxProvider(bank)
    first = provider.create(_request("5.00"))
    again = provider.create(_request("5.00"))
    assert first.provider_ref == again.provider_ref and bank.count() == 1
    provider.create(_request("5.00", key="k2"))
    assert bank.count() == 2
    found = provider.lookup(_request("5.00"), None)
    assert found is not None and found.provider_ref == first.provider_ref
    assert provider.lookup(_request("5.00", key="absent"), None) is None


def test_injected_drop_after_creates_but_loses_the_answer() -> None:
    bank = SandboxBank()
    provider = SandboxProvider(bank, faults=lambda action, req: "drop_after")
    answer = provider.create(_request("5.00"))
    assert answer.disposition is Disposition.UNKNOWN and bank.count() == 1


def test_quotes_follow_the_fee_option() -> None:
    provider = SandboxProvider(SandboxBank())
    deduct = provider.quote(_request("100"))
    add = provider.quote(_request("100", fee_option="add"))
    assert deduct is not None and add is not None
    assert (deduct.fee, deduct.receives, deduct.debited) == (Decimal(1), Decimal(99), Decimal(100))
    assert (add.receives, add.debited) == (Decimal(100), Decimal(101))


def test_only_two_decimal_amounts_ending_01_to_04_simulate() -> None:
    amounts = ("1.01", "12.04", "12.3456", "0.5", "3", "0.0233", "1.010", "2.00", "2.05")
    assert [simulated_cents(Decimal(v)) for v in amounts] == [1, 4] + [None] * 7


def test_simulated_outcomes_are_warned_row_by_row() -> None:
    rows = [
        (2, Decimal("10.00")),
        (3, Decimal("10.02")),
        (4, Decimal("0.0233")),
        (5, Decimal("1.03")),
    ]
    problems = simulated_outcomes(rows)
    assert [(p.row, p.code, p.severity, p.value) for p in problems] == [
        (3, "sandbox.simulated_outcome", "warning", "10.02"),
        (5, "sandbox.simulated_outcome", "warning", "1.03"),
    ]
    assert "recipient not found" in problems[0].message
    assert "stays pending" in problems[1].message


def test_run_pays_realistic_amounts_and_warns_about_simulated_ones(
    settings: Settings, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet(
        [("E-1", "12.0233"), ("E-2", "10.02"), ("E-3", "7.014445"), ("E-4", "3.0439")]
    )
    dry = api.run(sheet, "sandbox", "b", settings=settings, dry_run=True)
    result = api.run(sheet, "sandbox", "b", settings=settings)
    for outcome in (dry, result):
        simulated = [p for p in outcome.problems if p.code == "sandbox.simulated_outcome"]
        assert [(p.row, p.value) for p in simulated] == [(3, "10.02")]
    assert result.summary is not None
    assert {k: v for k, v in result.summary.counts.items() if v} == {"completed": 3, "failed": 1}
    assert "sandbox.simulated_outcome" in json.dumps(run_json(result))
