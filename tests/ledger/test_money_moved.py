"""Money that did not move is not sent (issue 12, 1d): one rule for every provider and every
path that ends a row failed or cancelled, enforced by the ledger itself."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from batchpay.config import Environment
from batchpay.emulator import Emulator
from batchpay.ledger import Intent, Ledger, Outcome, parse_location
from batchpay.model import RowStatus
from batchpay.providers.base import Answer, Disposition
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.report.model import build_report
from batchpay.send import Engine
from batchpay.webhooks import Receiver
from tests.webhooks.callbacks import engine, payout_row, plan_rows, set_status, signed

AMOUNTS = ["10.00", "10.02", "10.04"]  # completed; failed: recipient not found; network error


def _sent(ledger: Ledger) -> tuple[list[Decimal | None], list[RowStatus], Decimal, bool]:
    rows = ledger.rows("b")
    report = build_report(ledger, "b")
    (usdt,) = report.summaries
    return [r.amount_sent for r in rows], [r.status for r in rows], usdt.sent, usdt.identity_holds


def test_pontis_payouts_that_fail_at_status_count_as_not_sent(ledger_url: str) -> None:
    """PontisGlobe accepts .01/.02/.04 and fails them only when their status is read."""
    emulator = Emulator()
    with Ledger(ledger_url) as ledger:
        rows = [payout_row("pontis", i, a) for i, a in enumerate(["10.01", *AMOUNTS])]
        plan_rows(ledger, "pontis", rows)
        run = engine(ledger, "pontis", emulator)
        run.send_planned()
        assert all(r.amount_sent == r.amount for r in ledger.rows("b"))  # accepted
        run.refresh()
        sent, statuses, total, holds = _sent(ledger)
    assert statuses == [RowStatus.FAILED, RowStatus.COMPLETED, RowStatus.FAILED, RowStatus.FAILED]
    assert sent == [None, Decimal("10.00"), None, None]
    assert (total, holds) == (Decimal("10.00"), True)


def test_the_sandbox_and_pontis_agree_on_what_was_sent(tmp_path: Path, ledger_url: str) -> None:
    """The sandbox fails .02/.04 at once, PontisGlobe later: the summary is the same."""
    bank = SandboxBank()
    try:
        with Ledger(tmp_path / "sandbox.sqlite") as ledger:
            plan_rows(
                ledger, "sandbox", [payout_row("sandbox", i, a) for i, a in enumerate(AMOUNTS)]
            )
            Engine(ledger, SandboxProvider(bank), "b", sleep=lambda s: None).send_planned()
            sandbox = _sent(ledger)
    finally:
        bank.close()
    emulator = Emulator()
    with Ledger(ledger_url) as ledger:
        plan_rows(ledger, "pontis", [payout_row("pontis", i, a) for i, a in enumerate(AMOUNTS)])
        run = engine(ledger, "pontis", emulator)
        run.send_planned()
        run.refresh()
        pontis = _sent(ledger)
    assert sandbox == pontis
    assert pontis[0] == [Decimal("10.00"), None, None]


def test_a_failed_callback_clears_what_the_row_claimed_was_sent(ledger_url: str) -> None:
    emulator = Emulator()
    with Ledger(ledger_url) as ledger:
        plan_rows(ledger, "pontis", [payout_row("pontis")])
        engine(ledger, "pontis", emulator).send_planned()
        ref = ledger.rows("b")[0].provider_ref
    assert ref
    set_status(emulator, "pontis", ref, "cancelled")
    reply = Receiver(parse_location(ledger_url), Environment(emulator.env())).handle(
        "pontis", *signed("pontis", ref, "cancelled", emulator, "1")
    )
    assert reply.text == "updated"
    with Ledger(ledger_url) as ledger:
        sent, statuses, total, holds = _sent(ledger)
    assert (sent, statuses, total, holds) == ([None], [RowStatus.CANCELLED], Decimal(0), True)


@pytest.mark.parametrize("end", [RowStatus.FAILED, RowStatus.CANCELLED])
@pytest.mark.parametrize("action", ["create", "lookup"])
def test_every_answer_that_ends_a_row_dead_clears_its_money(
    ledger_url: str, end: RowStatus, action: str
) -> None:
    """Even an answer that itself claims an amount and a fee for a dead row."""
    with Ledger(ledger_url) as ledger:
        plan_rows(ledger, "sandbox", [payout_row("sandbox")])
        key = ledger.rows("b")[0].row_key
        (aid,) = ledger.begin("b", [Intent(key, 1, "k-1")])
        accepted = Outcome(
            aid,
            key,
            RowStatus.PENDING,
            answer=Answer(
                RowStatus.PENDING, Disposition.ACCEPTED, provider_ref="p1", fee=Decimal("1")
            ),
            amount_sent=Decimal("10"),
        )
        ledger.finish("b", [accepted])
        assert ledger.rows("b")[0].amount_sent == Decimal("10")
        if action == "lookup":
            (aid,) = ledger.begin("b", [Intent(key, 1, "k-1", "lookup")])
        ledger.finish(
            "b",
            [
                Outcome(
                    aid,
                    key,
                    end,
                    answer=Answer(end, Disposition.FINAL, fee=Decimal("1"), tx_hash="t"),
                    amount_sent=Decimal("10"),
                )
            ],
        )
        row = ledger.rows("b")[0]
    assert (row.status, row.amount_sent, row.fee, row.provider_ref) == (end, None, None, "p1")


def test_an_older_ledger_is_corrected_on_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    folder = resources.files("batchpay.ledger.migrations")
    for name in ("001_init.sql", "002_webhook_events.sql", "003_revision.sql"):
        db.executescript(folder.joinpath(name).read_text())
    db.execute("PRAGMA user_version = 3")
    db.execute(
        "INSERT INTO batches (batch_id, provider, sandbox, sheet_name, sheet_sha256,"
        " rounding, fee_option, created_at, last_run_at) VALUES"
        " ('b','pontis',0,'s.csv','x','down','deduct','t','t')"
    )
    for key, status in (("r1", "failed"), ("r2", "completed")):
        db.execute(
            "INSERT INTO payouts (batch_id, row_key, sheet_row, reference, currency,"
            " amount_requested, amount, rounding_delta, status, attempt_no, amount_sent, fee,"
            " updated_at) VALUES ('b',?,2,?,'USDT','10','10','0',?,1,'10','1','t')",
            (key, key, status),
        )
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        sent = {r.row_key: (r.amount_sent, r.fee) for r in ledger.rows("b")}
    assert sent == {"r1": (None, None), "r2": (Decimal("10"), Decimal("1"))}
