"""What `run` and `status` say about a row another worker holds (PostgreSQL leases): whose it
is and until when, not "the next run asks the provider", which is not so before the lease ends."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from batchpay import guard
from batchpay.keys import row_key
from batchpay.ledger import LedgerRow
from batchpay.model import RowStatus

NOW = datetime(2026, 11, 30, 5, 51, 40, tzinfo=UTC)


def _row(status: RowStatus, owner: str | None, until: str | None) -> LedgerRow:
    return LedgerRow(
        batch_id="B", row_key=row_key("B", "E-1"), sheet_row=7, reference="E-1", name="Ann",
        description=None, currency="USDT", network="TRON", address="T" * 34, memo=None,
        extra={}, amount_requested=Decimal("10"), amount=Decimal("10"),
        rounding_delta=Decimal("0"), status=status, attempt_no=1, idempotency_key="k",
        provider_ref=None, fee=None, amount_sent=None, tx_hash=None, error_code=None,
        error_message=None, updated_at="2026-11-30T05:51:25+00:00",
        lease_owner=owner, lease_until=until,
    )  # fmt: skip


def test_a_row_under_a_live_lease_names_its_worker_and_the_lease_end() -> None:
    row = _row(RowStatus.SENDING, "k1", "2026-11-30T05:53:25.860605+00:00")
    assert guard.reason(row, NOW) == (
        "held by worker k1 until 05:53:25 UTC; if it stopped, the next run or status after "
        "that asks the provider"
    )
    planned = dataclasses.replace(row, status=RowStatus.PLANNED)
    assert guard.reason(planned, NOW).startswith("held by worker k1 until 05:53:25 UTC")


def test_an_expired_or_absent_lease_says_what_the_next_run_does() -> None:
    expired = _row(RowStatus.SENDING, "k1", "2026-11-30T05:51:39+00:00")
    assert guard.reason(expired, NOW) == "outcome not recorded; the next run asks the provider"
    sqlite_row = _row(RowStatus.SENDING, None, None)
    assert guard.reason(sqlite_row, NOW) == "outcome not recorded; the next run asks the provider"
    garbled = _row(RowStatus.SENDING, "k1", "soon")
    assert guard.reason(garbled, NOW) == "outcome not recorded; the next run asks the provider"


def test_a_failed_row_keeps_its_error_whoever_held_it() -> None:
    failed = dataclasses.replace(
        _row(RowStatus.FAILED, "k1", "2026-11-30T05:53:25+00:00"), error_message="no such wallet"
    )
    assert guard.reason(failed, NOW) == "no such wallet"
