from __future__ import annotations

from decimal import Decimal

import pytest

from batchpay.model import RowStatus
from batchpay.providers.base import Disposition, PayoutRequest
from batchpay.providers.sandbox import SandboxBank, SandboxProvider, cents


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
        ("10.049", RowStatus.FAILED, Disposition.FINAL, "network_error"),
        ("7", RowStatus.COMPLETED, Disposition.ACCEPTED, None),
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
    assert (deduct.fee, deduct.receives, deduct.debited) == (1, Decimal(99), Decimal(100))
    assert (add.receives, add.debited) == (Decimal(100), Decimal(101))


def test_cents_helper() -> None:
    assert [cents(Decimal(v)) for v in ("1.01", "12.3456", "0.5", "3")] == [1, 34, 50, 0]
