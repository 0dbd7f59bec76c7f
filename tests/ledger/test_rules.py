"""The one judgement that decides whether an answer moves a row (engine answers and callbacks)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from batchpay.ledger import Intent, Ledger, Outcome
from batchpay.ledger.rules import judge
from batchpay.model import RowStatus
from batchpay.providers.base import Answer, Disposition
from tests.webhooks.callbacks import payout_row, plan_rows

S = RowStatus


@pytest.mark.parametrize(
    ("current", "row_attempt", "attempt", "new", "engine", "expected", "code"),
    [
        (S.SENDING, 2, 1, S.FAILED, False, None, "old_attempt"),
        (S.PENDING, 2, 1, S.COMPLETED, False, None, "old_attempt"),
        (S.FAILED, 2, 1, S.PENDING, True, None, "old_attempt"),
        (S.SENDING, 2, 2, S.FAILED, False, None, "row_in_flight"),
        (S.UNKNOWN, 1, 1, S.COMPLETED, False, None, "row_in_flight"),
        (S.SENDING, 2, 2, S.PENDING, True, S.PENDING, None),
        (S.UNKNOWN, 1, 1, S.FAILED, True, S.FAILED, None),
        (S.FAILED, 1, 1, S.PENDING, False, S.NEEDS_REVIEW, "accepted_after_failure"),
        (S.CANCELLED, 1, 1, S.COMPLETED, True, S.NEEDS_REVIEW, "accepted_after_failure"),
        (S.FAILED, 1, 1, S.PROCESSING, True, S.NEEDS_REVIEW, "accepted_after_failure"),
        (S.FAILED, 1, 1, S.CANCELLED, False, None, "unchanged"),
        (S.COMPLETED, 1, 1, S.FAILED, False, None, "unchanged"),
        (S.PENDING, 1, 1, S.FAILED, False, S.FAILED, None),
        (S.NEEDS_REVIEW, 1, 1, S.COMPLETED, False, None, "unchanged"),
    ],
)
def test_judge(
    current: RowStatus,
    row_attempt: int,
    attempt: int,
    new: RowStatus,
    engine: bool,
    expected: RowStatus | None,
    code: str | None,
) -> None:
    verdict = judge(current, row_attempt, attempt, new, from_engine=engine, provider_ref="P")
    assert (verdict.status, verdict.code) == (expected, code)


def _ref(status: RowStatus, provider_ref: str) -> Answer:
    return Answer(status, Disposition.ACCEPTED, provider_ref=provider_ref)


def _failed_row(ledger: Ledger) -> str:
    plan_rows(ledger, "sandbox", [payout_row("sandbox")])
    key = ledger.rows("b")[0].row_key
    (aid,) = ledger.begin("b", [Intent(key, 1, "k-1")])
    ledger.finish("b", [Outcome(aid, key, RowStatus.FAILED, "final", _ref(RowStatus.FAILED, "A"))])
    return key


def test_the_engines_accepted_answer_for_a_failed_row_is_kept_for_review(ledger_url: str) -> None:
    """A lookup finds the failed row's payout accepted after all: never dropped."""
    with Ledger(ledger_url) as ledger:
        key = _failed_row(ledger)
        (aid,) = ledger.begin("b", [Intent(key, 1, "k-1", "lookup")])
        ledger.finish(
            "b",
            [
                Outcome(
                    aid,
                    key,
                    RowStatus.PROCESSING,
                    answer=_ref(RowStatus.PROCESSING, "A"),
                    amount_sent=Decimal(10),
                )
            ],
        )
        row = ledger.rows("b")[0]
    assert (row.status, row.provider_ref, row.amount_sent, row.error_code) == (
        RowStatus.NEEDS_REVIEW,
        "A",
        Decimal(10),
        "accepted_after_failure",
    )


def test_an_answer_about_an_older_attempt_never_moves_the_row(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        key = _failed_row(ledger)
        (old_lookup,) = ledger.begin("b", [Intent(key, 1, "k-1", "lookup")])
        (retry,) = ledger.begin("b", [Intent(key, 2, "k-2")])
        ledger.finish(
            "b", [Outcome(retry, key, RowStatus.PENDING, answer=_ref(RowStatus.PENDING, "B"))]
        )
        ledger.finish(
            "b", [Outcome(old_lookup, key, RowStatus.FAILED, answer=_ref(RowStatus.FAILED, "A"))]
        )
        row = ledger.rows("b")[0]
    assert (row.status, row.attempt_no, row.provider_ref) == (RowStatus.PENDING, 2, "B")
