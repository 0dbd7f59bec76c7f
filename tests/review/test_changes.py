"""Payee changes since the last paid batch: the alarms an approver must see."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from batchpay import api
from batchpay.config import Settings
from batchpay.ledger import Ledger
from batchpay.records import Recent
from batchpay.review.changes import (
    PayeeChange,
    compare,
    last_paid,
    must_acknowledge,
    payee_changes,
)
from batchpay.statuses import RowStatus
from tests.conftest import TRON
from tests.review.helpers import payout, plan_of

Write = Callable[..., Path]
HEADER = "reference,name,amount,currency,network,address,memo,description"


def _sheet(write: Write, name: str, rows: list[tuple[str, str, str]]) -> Path:
    lines = [
        f"{ref},Person {ref},{amount},USDT,TRON,{address},,pay" for ref, amount, address in rows
    ]
    path = write([], name=name)
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _october(settings: Settings, write: Write) -> None:
    rows = [("A", "100", TRON[0]), ("B", "200", TRON[1]), ("C", "300", TRON[2])]
    rows.append(("F", "50.02", TRON[3]))  # the sandbox fails it: never paid
    api.run(_sheet(write, "october.csv", rows), "sandbox", "2026-10", settings=settings)


NOVEMBER = [
    payout(2, "A", "125", address=TRON[0]),  # +25 %
    payout(3, "B", "200", address=TRON[3]),  # another wallet
    payout(4, "D", "10", address=TRON[2]),  # new
    payout(5, "F", "50", address=TRON[3]),  # failed last time: not paid, so new
]


def test_changes_since_the_last_paid_batch(settings: Settings, write_sheet: Write) -> None:
    _october(settings, write_sheet)
    with Ledger(settings.ledger) as ledger:
        changes = payee_changes(ledger, plan_of("2026-11", NOVEMBER))
    assert [(c.reference, c.kind, c.row) for c in changes] == [
        ("A", "amount", 2),
        ("B", "destination", 3),
        ("D", "new", 4),
        ("F", "new", 5),
        ("C", "missing", None),
    ]
    amount, destination, _, _, missing = changes
    assert (amount.before, amount.after) == ("100 USDT", "125 USDT")
    assert "25 %" in amount.note and "20 %" in amount.note
    assert (destination.before, destination.after) == (f"TRON {TRON[1]}", f"TRON {TRON[3]}")
    assert "2026-10" in destination.note
    assert (missing.before, missing.after) == ("300 USDT", None)
    assert must_acknowledge(changes) == ["B", "D", "F"]


def test_the_amount_share_is_configurable(settings: Settings, write_sheet: Write) -> None:
    _october(settings, write_sheet)
    with Ledger(settings.ledger) as ledger:
        changes = payee_changes(ledger, plan_of("2026-11", NOVEMBER), amount_share=Decimal("0.3"))
    assert "A" not in {c.reference for c in changes}


def test_nothing_to_compare_with(settings: Settings, write_sheet: Write) -> None:
    with Ledger(settings.ledger) as ledger:
        assert payee_changes(ledger, plan_of("2026-11", NOVEMBER)) == []
    _october(settings, write_sheet)
    with Ledger(settings.ledger) as ledger:  # a sandbox batch never counts for a live plan
        assert payee_changes(ledger, plan_of("2026-11", NOVEMBER, "oxapay")) == []
        # the batch itself is not "the last paid batch"
        assert payee_changes(ledger, plan_of("2026-10", NOVEMBER)) == []


def test_the_most_recent_paid_batch_is_the_one_compared(
    settings: Settings, write_sheet: Write
) -> None:
    september = _sheet(write_sheet, "september.csv", [("B", "150", TRON[0])])
    api.run(september, "sandbox", "2026-09", settings=settings)
    _october(settings, write_sheet)
    with Ledger(settings.ledger) as ledger:
        changes = payee_changes(
            ledger, plan_of("2026-11", [payout(2, "B", "200", address=TRON[1])])
        )
    assert [(c.reference, c.kind) for c in changes] == [("A", "missing"), ("C", "missing")]


def _recent(reference: str, **kw: object) -> Recent:
    fields: dict[str, object] = {
        "batch": "old",
        "reference": reference,
        "status": RowStatus.COMPLETED,
        "amount": Decimal("100"),
        "currency": "USDT",
        "network": "TRON",
        "address": TRON[0],
        "memo": None,
    }
    fields.update(kw)
    return Recent(**fields)  # type: ignore[arg-type]


def test_memo_currency_and_bank_details_are_compared() -> None:
    memo = compare(
        plan_of("new", [payout(2, "M", "100", address=TRON[0], memo="9")]),
        "old",
        {"M": _recent("M")},
        Decimal("0.2"),
    )
    assert [(c.kind, c.after) for c in memo] == [("destination", f"TRON {TRON[0]} memo 9")]
    currency = compare(
        plan_of("new", [payout(2, "M", "100", address=TRON[0], currency="USDC")]),
        "old",
        {"M": _recent("M")},
        Decimal("0.2"),
    )
    assert [(c.kind, c.before, c.after) for c in currency] == [("amount", "100 USDT", "100 USDC")]
    bank = {"recipient.account_number": "0012 3456", "purpose_of_payment": "salary"}
    old = _recent("P", network=None, address=None, extra=bank)
    same = {"recipient.account_number": "00123456", "purpose_of_payment": "bonus"}
    other = {"recipient.account_number": "00123457", "purpose_of_payment": "salary"}
    assert (
        compare(
            plan_of("new", [payout(2, "P", "100", network=None, extra=same)]),
            "old",
            {"P": old},
            Decimal("0.2"),
        )
        == []
    )
    moved = compare(
        plan_of("new", [payout(2, "P", "100", network=None, extra=other)]),
        "old",
        {"P": old},
        Decimal("0.2"),
    )
    assert moved == [
        PayeeChange(
            "P",
            "destination",
            2,
            "account_number=00123456",
            "account_number=00123457",
            "paid to another destination in batch 'old'",
        )
    ]


def test_a_ton_account_in_another_spelling_is_the_same_destination() -> None:
    import base64

    friendly = "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB"
    data = base64.urlsafe_b64decode(friendly)
    raw = f"{data[1]}:{data[2:34].hex()}"
    old = _recent("T", network="TON", address=raw, currency="TON")
    plan = plan_of("new", [payout(2, "T", "100", network="TON", address=friendly, currency="TON")])
    assert compare(plan, "old", {"T": old}, Decimal("0.2")) == []


def test_a_switch_of_provider_never_hides_a_changed_wallet(settings: Settings) -> None:
    import sqlite3

    october = plan_of("oct", [payout(2, "A", "100", address=TRON[0])], provider="oxapay")
    with Ledger(settings.ledger) as ledger:
        ledger.save_plan(october, sandbox=False, rounding="down", fee_option="deduct")
    db = sqlite3.connect(str(settings.ledger))
    with db:
        db.execute("UPDATE payouts SET status = 'completed' WHERE batch_id = 'oct'")
    db.close()
    november = plan_of("nov", [payout(2, "A", "100", address=TRON[1])], provider="thedex")
    with Ledger(settings.ledger) as ledger:
        changes = payee_changes(ledger, november)
        assert last_paid(ledger, november) is not None
        # a sandbox rehearsal is still never the base of a live batch, nor the other way
        assert last_paid(ledger, plan_of("s", [payout(2, "A", "1")], provider="sandbox")) is None
    assert [(c.reference, c.kind) for c in changes] == [("A", "destination")]
    assert must_acknowledge(changes) == ["A"]


def test_a_batch_already_run_is_compared_with_the_one_before_it_never_a_later_one(
    settings: Settings, write_sheet: Write
) -> None:
    september = _sheet(write_sheet, "september.csv", [("B", "150", TRON[0])])
    api.run(september, "sandbox", "2026-09", settings=settings)
    october = _sheet(write_sheet, "october.csv", [("B", "160", TRON[1])])
    api.run(october, "sandbox", "2026-10", settings=settings)
    november = _sheet(write_sheet, "november.csv", [("B", "170", TRON[2])])
    api.run(november, "sandbox", "2026-11", settings=settings)
    with Ledger(settings.ledger) as ledger:
        again = plan_of("2026-10", [payout(2, "B", "160", address=TRON[1])])
        found = last_paid(ledger, again)
    assert found is not None and found[0] == "2026-09"
