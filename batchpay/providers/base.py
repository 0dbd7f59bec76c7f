"""The one small interface every provider adapter implements, and the common answer model.

An adapter maps a :class:`PayoutRequest` to the provider's request, and the provider's answer
to an :class:`Answer`: a row status from the common model plus a :class:`Disposition` that tells
the send stage what it may do next. Adapters never raise for provider or transport failures;
those are translated at the boundary (:mod:`batchpay.providers.boundary`) into answers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from batchpay.keys import KeyForm
from batchpay.model import RowStatus


class Disposition(StrEnum):
    ACCEPTED = "accepted"  # the provider has the payout (pending, processing or completed)
    FINAL = "final"  # rejected for good: the data must be fixed
    OPERATOR = "operator"  # rejected until the operator acts (balance, limits, KYC)
    NOT_SENT = "not_sent"  # provably never reached the provider: safe to send again
    RETRY = "retry"  # reached the provider but safe to repeat with the same key
    UNKNOWN = "unknown"  # may or may not exist: resolve by lookup before anything else


@dataclass(frozen=True, slots=True)
class Sent:
    """When the create requests carrying one key (or tag) started, from the write-ahead
    ledger: a search for that payout is narrowed to this window (plus margins)."""

    first: dt.datetime
    last: dt.datetime


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    row_key: str
    attempt: int
    key: str  # idempotency key or description tag, by the provider's KeyForm
    reference: str
    amount: Decimal
    currency: str
    network: str | None = None
    address: str | None = None
    memo: str | None = None
    name: str | None = None
    description: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    fee_option: str = "deduct"
    sent: Sent | None = None  # filled by the engine for lookups; None: search the default span


@dataclass(frozen=True, slots=True)
class Answer:
    status: RowStatus
    disposition: Disposition
    provider_ref: str | None = None
    amount: Decimal | None = None  # the provider's amount for this payout, to compare with ours
    address: str | None = None
    fee: Decimal | None = None
    tx_hash: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    retry_after: float | None = None  # float-ok: seconds, from Retry-After
    key: str | None = None  # the idempotency key or tag the provider holds for this payout
    request: Mapping[str, Any] | None = None  # redacted, as sent
    response: Mapping[str, Any] | None = None  # redacted, as received


@dataclass(frozen=True, slots=True)
class Quote:
    """What a payout costs: the recipient gets ``receives``, the balance pays ``debited``."""

    currency: str
    amount: Decimal
    fee: Decimal
    receives: Decimal
    debited: Decimal


@dataclass(frozen=True, slots=True)
class Listing:
    """A provider's list of payouts. ``complete`` is False when it could not be read to the
    end (a page cap, an error part-way, pages that disagree): then what is missing from
    ``payouts`` proves nothing, and ``reason`` says why."""

    payouts: list[Answer]
    complete: bool = True
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Balances:
    """What the provider says is available to pay out, per currency (upper case). ``amounts``
    is None when it could not tell (a transport error, 5xx, an answer it cannot read, a
    credential the balance call needs and was not given): ``reason`` says why."""

    amounts: Mapping[str, Decimal] | None
    reason: str | None = None
    unlisted: Decimal = Decimal(0)  # what a currency not in ``amounts`` holds

    def of(self, currency: str) -> Decimal | None:
        """The balance in one currency; None when not known."""
        if self.amounts is None:
            return None
        return self.amounts.get(currency.upper(), self.unlisted)


class BalanceSource(Protocol):
    """An adapter whose provider publishes a balance call has ``balances()``; the others
    have none (the balance check then says the balance is not known)."""

    def balances(self) -> Balances: ...


class Provider(Protocol):
    name: str
    key_form: KeyForm
    dedupes_by_key: bool  # resending with the same key can never create a second payout
    is_sandbox: bool  # no money moves
    # How long after sending a payout without a key field it may take to appear in a
    # lookup; only after that long may "not found" be read as "never arrived".
    grace_seconds: float  # float-ok: seconds

    def create(self, request: PayoutRequest) -> Answer: ...

    def lookup(self, request: PayoutRequest, provider_ref: str | None) -> Answer | None:
        """The provider's payout for this request (by ref, else by key or tag); None only
        when the provider provably holds no such payout. A lookup that could not tell (a
        transport error, 429, 5xx, an answer it cannot read, a search it could not finish)
        answers ``Disposition.UNKNOWN``, never None. (An adapter whose provider deduplicates
        by key may answer None without asking when it has no reference: a resend with the
        same key is then safe.)"""
        ...

    def quote(self, request: PayoutRequest) -> Quote | None: ...

    def list_payouts(self, sent: Sent | None = None) -> Listing | None:
        """The payouts sent in ``sent`` (recent ones if None) with the key or tag each
        carries, for two-way reconciliation; None where the provider offers no listing."""
        ...

    def close(self) -> None: ...


# Provider status words -> common model. Adapters extend this per provider.
def map_status(table: Mapping[str, RowStatus], value: object) -> RowStatus:
    return table.get(str(value).strip().lower(), RowStatus.UNKNOWN)


# ours, canonical: Ethereum-family hex (any case), or bech32 in lower case (hrp "1" data)
_CASELESS = re.compile(r"0x[0-9a-fA-F]{40}|[a-z]{1,83}1[02-9ac-hj-np-z]{6,}")


def same_address(ours: str, theirs: str) -> bool:
    """Whether a provider's echo of an address names the one we sent. Ours is canonical
    (EIP-55 for Ethereum-family hex, lower case for bech32); a provider may echo either
    family in another case, which names the same account. Every other family is
    case-sensitive (Base58: ``a`` and ``A`` are different addresses) and compared exactly."""
    if ours == theirs:
        return True
    return bool(_CASELESS.fullmatch(ours)) and ours.lower() == theirs.lower()
