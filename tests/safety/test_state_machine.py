"""A hypothesis state machine over the ledger and the send stage: add rows, pay them with
every kind of fault, crash mid-way, re-run, retry failed rows, edit an amount under a paid
reference; after every step, the invariants that make batchpay safe must hold."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from batchpay.ledger import Intent, Ledger
from batchpay.model import FINAL, PayoutRow, RowStatus
from batchpay.plan import KeyForm, attempt_key, conflicts, make_plan
from batchpay.providers.base import PayoutRequest
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.send import Engine, RetryPolicy
from tests.conftest import TRON
from tests.safety.helpers import attempt_keys

FAULTS = st.sampled_from([None, "drop_before", "drop_after"])
# the sandbox decides by cents: .00 completed, .01 rejected, .02/.04 failed, .03 pending
AMOUNTS = st.sampled_from(["10.00", "10.01", "10.02", "10.03", "10.04", "7.5"])


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="bp-state-"))
        self.ledger = Ledger(self.dir / "l.sqlite")
        self.bank = SandboxBank()
        self.fault: str | None = None
        self.rows: list[PayoutRow] = []
        self.final_seen: dict[str, RowStatus] = {}

    def teardown(self) -> None:
        self.ledger.close()
        self.bank.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _engine(self) -> Engine:
        def faults(action: str, request: PayoutRequest) -> str | None:
            return self.fault

        return Engine(
            ledger=self.ledger,
            provider=SandboxProvider(self.bank, faults),
            batch="b",
            concurrency=2,
            retry=RetryPolicy(max_tries=2),
            sleep=lambda s: None,
        )

    @rule(amounts=st.lists(AMOUNTS, min_size=1, max_size=4))
    def add_rows(self, amounts: list[str]) -> None:
        start = len(self.rows)
        new = [
            PayoutRow(
                start + i + 2,
                f"R{start + i}",
                Decimal(a),
                Decimal(a),
                Decimal(0),
                "USDT",
                "TRON",
                TRON[i % 4],
            )
            for i, a in enumerate(amounts)
        ]
        self.rows += new
        self.ledger.save_plan(
            make_plan("b", "sandbox", "s.csv", "", self.rows),
            sandbox=True,
            rounding="down",
            fee_option="deduct",
        )

    @precondition(lambda self: self.rows)
    @rule(fault=FAULTS)
    def run(self, fault: str | None) -> None:
        self.fault = fault
        engine = self._engine()
        engine.settle()
        engine.send_planned()
        self.fault = None

    @precondition(lambda self: self.rows)
    @rule(send=st.booleans())
    def crash_mid_send(self, send: bool) -> None:
        """The process dies after committing intents (and maybe after the requests)."""
        planned = self.ledger.rows("b", [RowStatus.PLANNED])[:2]
        if not planned:
            return
        keys = [attempt_key(r.row_key, max(r.attempt_no, 1), KeyForm.UUID) for r in planned]
        self.ledger.begin(
            "b",
            [
                Intent(r.row_key, max(r.attempt_no, 1), k)
                for r, k in zip(planned, keys, strict=True)
            ],
        )
        if send:
            for row, key in zip(planned, keys, strict=True):
                self.bank.create(
                    PayoutRequest(
                        row.row_key,
                        max(row.attempt_no, 1),
                        key,
                        row.reference,
                        row.amount,
                        row.currency,
                        row.network,
                        row.address,
                    )
                )

    @precondition(lambda self: self.rows)
    @rule()
    def retry_failed(self) -> None:
        engine = self._engine()
        engine.settle()
        engine.retry_failed()

    @precondition(lambda self: self.rows)
    @rule()
    def refresh(self) -> None:
        self._engine().refresh()

    @precondition(lambda self: any(r.attempt_no for r in self.ledger.rows("b")))
    @rule(data=st.data())
    def edit_amount_under_a_sent_reference(self, data: st.DataObject) -> None:
        sent = [r for r in self.ledger.rows("b") if r.attempt_no]
        target = data.draw(st.sampled_from(sent))
        edited = [
            PayoutRow(
                r.row,
                r.reference,
                r.amount_requested + 1,
                r.amount + 1,
                r.rounding_delta,
                r.currency,
                r.network,
                r.address,
            )
            if r.reference == target.reference
            else r
            for r in self.rows
        ]
        plan = make_plan("b", "sandbox", "s.csv", "", edited)
        refused = conflicts(plan, self.ledger.existing("b"))
        assert [p.code for p in refused] == ["plan.changed_after_send"]

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def at_most_one_live_payout_per_row(self) -> None:
        keys = attempt_keys(self.ledger, "b")
        live = Counter(keys.get(p.key) for p in self.bank.all() if p.status is not RowStatus.FAILED)
        assert None not in live, "a payout whose key the ledger never committed"
        assert all(n <= 1 for n in live.values()), live

    @invariant()
    def amounts_match_the_ledger(self) -> None:
        rows = {r.row_key: r for r in self.ledger.rows("b")}
        keys = attempt_keys(self.ledger, "b")
        for payout in self.bank.all():
            assert payout.amount == rows[keys[payout.key]].amount

    @invariant()
    def final_rows_stay_final(self) -> None:
        for row in self.ledger.rows("b"):
            before = self.final_seen.get(row.row_key)
            if before is RowStatus.COMPLETED:
                assert row.status is RowStatus.COMPLETED
            if row.status in FINAL:
                self.final_seen[row.row_key] = row.status

    @invariant()
    def ledger_knows_every_row(self) -> None:
        assert len(self.ledger.rows("b")) == len(self.rows)


LedgerMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerStateMachine = LedgerMachine.TestCase
