"""A payout row's statuses, and which answer may move a row where: one judgement, on the ground
floor, for the engine's answers and for provider callbacks alike.

Three rules close the ways an answer could lose a payout or invite a second one:

* an answer counts only for the attempt it is about, and only while that attempt is the row's
  current one (an old payout's news never moves a row that has moved on);
* only the engine's own answer moves a row that is ``sending`` or ``unknown``: a callback
  arriving while a request is in flight is recorded, never applied;
* a payout the provider accepted is never discarded: accepted news about the current attempt
  of a failed or cancelled row puts the row in front of a person, so no retry pays again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RowStatus(StrEnum):
    PLANNED = "planned"
    SENDING = "sending"  # intent committed; the request may or may not have left
    UNKNOWN = "unknown"  # sent, outcome not known: resolve with the provider, never resend blind
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    NEEDS_REVIEW = "needs_review"  # a person must look (doubtful match, duplicate at provider)


FINAL = frozenset({RowStatus.COMPLETED, RowStatus.FAILED, RowStatus.CANCELLED})
ACCEPTED = frozenset({RowStatus.PENDING, RowStatus.PROCESSING, RowStatus.COMPLETED})
UNSETTLED = frozenset({RowStatus.SENDING, RowStatus.UNKNOWN})
DEAD = frozenset({RowStatus.FAILED, RowStatus.CANCELLED})  # payouts that moved no money

# Which status a recorded answer may move a row to. Final states are never left through an
# answer (only `retry` starts a new attempt on a failed row, through `Ledger.begin`).
_MAY_MOVE: dict[RowStatus, frozenset[RowStatus]] = {
    RowStatus.SENDING: frozenset(RowStatus) - {RowStatus.SENDING},
    RowStatus.UNKNOWN: frozenset(RowStatus) - {RowStatus.SENDING},
    RowStatus.PENDING: frozenset(FINAL | {RowStatus.PROCESSING, RowStatus.NEEDS_REVIEW}),
    RowStatus.PROCESSING: frozenset(FINAL | {RowStatus.PENDING, RowStatus.NEEDS_REVIEW}),
}


def may_move(current: RowStatus, new: RowStatus) -> bool:
    return current == new or new in _MAY_MOVE.get(current, frozenset())


@dataclass(frozen=True, slots=True)
class Verdict:
    """``status`` None: the row stays as it is, for the reason given."""

    status: RowStatus | None
    code: str | None = None
    reason: str | None = None


def judge(
    current: RowStatus,
    row_attempt: int,
    attempt: int,
    new: RowStatus,
    *,
    from_engine: bool,
    provider_ref: str | None = None,
) -> Verdict:
    """What an answer saying ``new`` about attempt ``attempt`` does to a row that is
    ``current`` on attempt ``row_attempt``."""
    if attempt != row_attempt:
        return Verdict(
            None,
            "old_attempt",
            f"about attempt {attempt}, but the row is on attempt {row_attempt}; "
            "news of an older payout never moves the row",
        )
    if not from_engine and current in UNSETTLED:
        return Verdict(
            None,
            "row_in_flight",
            f"the row is {current}: only the engine's own answer moves it",
        )
    if current in DEAD and new in ACCEPTED:
        payout = f"payout {provider_ref}" if provider_ref else "the payout"
        return Verdict(
            RowStatus.NEEDS_REVIEW,
            "accepted_after_failure",
            f"the provider reports {payout} {new} after the row was marked {current}: "
            "money may be moving; check it with the provider before any retry",
        )
    if may_move(current, new):  # the same status too: it may bring a tx hash or a fee
        return Verdict(new)
    return Verdict(None, "unchanged", f"the row stays {current}")
