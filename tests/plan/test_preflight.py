"""The preflight as a pure function over a plan and ledger data."""

from __future__ import annotations

from decimal import Decimal

from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import Existing, PlannedPayout, make_plan
from batchpay.plan.fees import gather_quotes
from batchpay.plan.preflight import LedgerView, Recent, preflight
from batchpay.problems import Problem, Severity
from batchpay.providers.base import Quote
from batchpay.validate.payable import load_payable

ADDRESS = "TFEkshkSXo8yMe8vcA6P77XmiLfstNWHyT"


def _row(ref: str, amount: str = "10", *, row: int = 2, network: str = "TRON") -> PayoutRow:
    return PayoutRow(
        row, ref, Decimal(amount), Decimal(amount), Decimal(0), "USDT", network, ADDRESS
    )


def _existing(key: str, ref: str, status: RowStatus, amount: str = "10") -> Existing:
    sent = status is not RowStatus.PLANNED
    return Existing(key, ref, status, sent, Decimal(amount), "USDT", "TRON", ADDRESS, None)


def _recent(batch: str, ref: str, status: RowStatus, amount: str = "10") -> Recent:
    return Recent(batch, ref, status, Decimal(amount), "USDT", "TRON", ADDRESS, None)


def _codes(problems: list[Problem]) -> list[tuple[int | None, str, str]]:
    return [(p.row, p.code, str(p.severity)) for p in problems]


def test_a_reference_respelled_with_a_cyrillic_letter_is_the_same_payment() -> None:
    first = make_plan("b", "sandbox", "s.csv", "", [_row("E-a001")])
    key = first.items[0].row_key
    again = make_plan("b", "sandbox", "s.csv", "", [_row("E-\u0430001")])  # Cyrillic a
    assert again.items[0].row_key != key  # a new row key: the ledger alone would pay it
    view = LedgerView(existing={key: _existing(key, "E-a001", RowStatus.COMPLETED)})
    (problem,) = preflight(again, view, allow_duplicates=False)
    assert (problem.code, problem.row, problem.severity) == (
        "payment.repeated",
        2,
        Severity.ERROR,
    )
    assert "'E-a001'" in problem.message and "completed" in problem.message
    (warning,) = preflight(again, view, allow_duplicates=True)
    assert warning.severity is Severity.WARNING
    # the same row key (a plain resume), or another amount, is no repeat
    assert preflight(first, view, allow_duplicates=False) == []
    other = make_plan("b", "sandbox", "s.csv", "", [_row("E-\u0430001", "11")])
    assert preflight(other, view, allow_duplicates=False) == []


def test_rows_planned_or_in_flight_in_another_batch_count_as_paid() -> None:
    plan = make_plan("nov-2", "sandbox", "s.csv", "", [_row("E-1"), _row("E-2", "12", row=3)])
    for status in (RowStatus.PLANNED, RowStatus.SENDING, RowStatus.UNKNOWN, RowStatus.PENDING):
        view = LedgerView(existing={}, recent=[_recent("nov", "E-1", status)])
        (problem,) = preflight(plan, view, allow_duplicates=False)
        assert problem.code == "payment.paid_recently" and problem.row == 2
        assert "'nov'" in problem.message
    planned = LedgerView(existing={}, recent=[_recent("nov", "E-1", RowStatus.PLANNED)])
    (problem,) = preflight(plan, planned, allow_duplicates=False)
    assert "not sent yet" in problem.message and "run that batch again" in problem.message


def test_the_same_recipient_and_amount_under_another_reference_in_another_batch() -> None:
    plan = make_plan("nov-2", "sandbox", "s.csv", "", [_row("E-\u0430001")])
    view = LedgerView(existing={}, recent=[_recent("nov", "E-a001", RowStatus.COMPLETED)])
    assert _codes(preflight(plan, view, allow_duplicates=False)) == [
        (2, "payment.paid_recently", "error")
    ]


def test_failed_rows_elsewhere_and_rows_sent_in_this_batch_are_not_checked_again() -> None:
    plan = make_plan("b", "sandbox", "s.csv", "", [_row("E-1")])
    key = plan.items[0].row_key
    failed = LedgerView(existing={}, recent=[])  # the ledger never lists failed rows
    assert preflight(plan, failed, allow_duplicates=False) == []
    sent = LedgerView(
        existing={key: _existing(key, "E-1", RowStatus.COMPLETED)},
        recent=[_recent("other", "E-1", RowStatus.COMPLETED)],
    )
    assert preflight(plan, sent, allow_duplicates=False) == []  # run will not send it again


def test_a_fee_that_eats_the_amount_is_refused() -> None:
    plan = make_plan("b", "sandbox", "s.csv", "", [_row("A", "0.5"), _row("B", "1", row=3)])
    a, b = (i.row_key for i in plan.items)
    quotes = {
        a: Quote("USDT", Decimal("0.5"), Decimal(1), Decimal("-0.5"), Decimal("0.5")),
        b: Quote("USDT", Decimal(1), Decimal(1), Decimal(0), Decimal(1)),
    }
    problems = preflight(plan, LedgerView(existing={}), allow_duplicates=False, quotes=quotes)
    assert _codes(problems) == [(2, "amount.below_fee", "error"), (3, "amount.below_fee", "error")]
    assert "would get -0.5" in problems[0].message


def test_the_run_quotes_only_the_smallest_amounts_it_needs() -> None:
    rows = [_row(f"R{i}", amount, row=i + 2) for i, amount in enumerate(["5", "0.5", "1", "0.5"])]
    plan = make_plan("b", "sandbox", "s.csv", "", rows)
    asked: list[Decimal] = []

    def quote(item: PlannedPayout) -> Quote:
        amount = item.payout.amount
        asked.append(amount)
        return Quote("USDT", amount, Decimal(1), amount - 1, amount)

    quotes = gather_quotes(plan.items, quote, every=False)
    assert asked == [Decimal("0.5"), Decimal("1"), Decimal("5")]  # 5 leaves the recipient 4
    assert {plan.items[i].row_key for i in (1, 2, 3)} <= set(quotes)
    asked.clear()
    rows = [_row(f"R{i}", str(100 + i), row=i + 2) for i in range(50)]
    gather_quotes(make_plan("b", "x", "s", "", rows).items, quote, every=False)
    assert asked == [Decimal(100)]  # ordinary salaries: one quote per currency and network
    asked.clear()
    assert len(gather_quotes(plan.items, quote, every=True)) == 4 and len(asked) == 4


def test_the_provider_pair_rule_is_part_of_the_preflight() -> None:
    plan = make_plan("b", "2328io", "s.csv", "", [_row("A"), _row("B", row=3, network="XRP")])
    problems = preflight(
        plan, LedgerView(existing={}), allow_duplicates=True, payable=load_payable("2328io")
    )
    assert _codes(problems) == [(3, "provider.cannot_pay", "error")]
    assert problems[0].column == "network" and problems[0].value == "XRP"
