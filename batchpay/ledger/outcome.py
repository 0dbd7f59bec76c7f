"""What one request led to, as the engine hands it to the ledger."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from batchpay.model import RowStatus

if TYPE_CHECKING:  # held, never built, here: the ledger does not import the adapters
    from batchpay.providers.base import Answer


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request led to. ``status`` None: leave the row's status as it is.

    ``answer`` is the provider's answer as received (None: there was none, e.g. "not
    found"); the ledger records its reference, fee, hash, HTTP status and redacted exchange.
    ``status`` and the error are the engine's conclusion, which may differ from the answer's
    (a mismatch puts an accepted payout in review)."""

    attempt_id: int
    row_key: str
    status: RowStatus | None
    disposition: str | None = None
    answer: Answer | None = None
    error_code: str | None = None
    error_message: str | None = None
    amount_sent: Decimal | None = None

    @property
    def http_status(self) -> int | None:
        return None if self.answer is None else self.answer.http_status

    @property
    def response(self) -> Mapping[str, Any] | None:  # already redacted
        return None if self.answer is None else self.answer.response

    @property
    def request(self) -> Mapping[str, Any] | None:  # the provider request as sent, redacted
        return None if self.answer is None else self.answer.request

    @property
    def provider_ref(self) -> str | None:
        return None if self.answer is None else self.answer.provider_ref

    @property
    def fee(self) -> Decimal | None:
        return None if self.answer is None else self.answer.fee

    @property
    def tx_hash(self) -> str | None:
        return None if self.answer is None else self.answer.tx_hash
