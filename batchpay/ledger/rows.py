"""The ledger's rows as batchpay reads them: plain dataclasses, importable without the
database layer (the report and the send stage name them; SQLAlchemy loads only when a ledger
is opened)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from batchpay.model import PayoutDetails, PayoutRow, RowStatus


@dataclass(frozen=True, slots=True)
class Doubt:
    """A row the provider's own list disagrees with (see Ledger.doubtful_payouts)."""

    row_key: str
    status: RowStatus
    provider_ref: str | None
    live: int  # live payouts the provider holds for this row
    live_refs: list[str]


@dataclass(frozen=True, slots=True)
class BatchInfo:
    batch_id: str
    provider: str
    sandbox: bool
    sheet_name: str
    sheet_sha256: str
    rounding: str
    fee_option: str
    created_at: str
    last_run_at: str
    refreshed_at: str | None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    batch_id: str
    row_key: str
    sheet_row: int
    reference: str
    name: str | None
    description: str | None
    currency: str
    network: str | None
    address: str | None
    memo: str | None
    extra: Mapping[str, str]
    amount_requested: Decimal
    amount: Decimal
    rounding_delta: Decimal
    status: RowStatus
    attempt_no: int
    idempotency_key: str | None
    provider_ref: str | None
    fee: Decimal | None
    amount_sent: Decimal | None
    tx_hash: str | None
    error_code: str | None
    error_message: str | None
    updated_at: str
    lease_owner: str | None = None  # PostgreSQL: the worker holding the row, and until when
    lease_until: str | None = None  # (ISO 8601, UTC); None on SQLite and once released

    def as_payout(self) -> PayoutRow:
        """The sheet row this ledger row was planned from."""
        return PayoutRow(
            row=self.sheet_row,
            amount_requested=self.amount_requested,
            rounding_delta=self.rounding_delta,
            **PayoutDetails.of(self).as_kwargs(),
        )


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    id: int
    row_key: str
    attempt_no: int
    idempotency_key: str
    action: str
    started_at: str
    finished_at: str | None
    http_status: int | None
    outcome: str | None
    disposition: str | None
    error_code: str | None
    error_message: str | None
    provider_ref: str | None
    try_no: int = 1  # which request of its attempt record's (row, attempt, key): 1, 2 ...
