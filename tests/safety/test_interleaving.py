"""Callbacks arriving at any moment, interleaved with runs, retries, lookups and status, for a
provider that deduplicates by key (2328.io, PontisGlobe) and one that does not (OxaPay,
TheDex). Callbacks may name any payout the provider holds, current or from an older attempt,
with any status that payout has had (deliveries arrive late and out of order), including while
a create request is held at the provider by a gate. After every step:

- at most one live (not failed or cancelled) payout per row at the provider;
- every payout at the provider carries a key the ledger committed before it was sent;
- no accepted payout is discarded: a row whose payout is live is never failed or cancelled;
- a failed or cancelled row claims no money sent, and no row is left ``sending``.

``BATCHPAY_SLOW=1`` runs many more examples, over all four providers."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from batchpay.config import Environment, load_settings
from batchpay.emulator import Emulator, Fault
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from batchpay.providers import open_provider
from batchpay.send import Engine, RetryPolicy
from batchpay.webhooks import Receiver
from tests.safety.helpers import attempt_keys
from tests.webhooks.callbacks import (
    DEAD,
    FAILED_WIRE,
    Gate,
    book,
    in_thread,
    payout_row,
    plan_rows,
    set_status,
    signed,
)

SLOW = os.environ.get("BATCHPAY_SLOW") == "1"
# PontisGlobe's cents decide a looked-up payout's end: .00 completed, .02 failed
AMOUNTS = ("10.00", "10.02")
CANCELLED_WIRE: dict[str, Any] = {
    "oxapay": "canceled",
    "thedex": 2,
    "pontis": "cancelled",
    "2328io": "cancelled",
}
# a few callbacks, each (which payout, which of its statuses); or None: every status every
# payout has had, delivered again (a provider's retry storm after an outage)
Picks = list[tuple[int, int]] | None
CALLBACKS = st.one_of(
    st.none(), st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99)), max_size=3)
)


class Interleaving(RuleBasedStateMachine):
    provider = "2328io"

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="bp-interleave-"))
        self.path = self.dir / "l.sqlite"
        self.emulator = Emulator()
        self.gate = Gate(self.emulator, self.provider)
        env = self.emulator.env()
        self.adapter = open_provider(
            self.provider, load_settings(environ=env), transport=self.gate.transport()
        )
        self.receiver = Receiver(self.path, Environment(env))
        self.later = dt.timedelta(0)  # how far the engine's clock has moved on
        self.seen: dict[str, list[Any]] = {}  # payout ref -> every status it has had
        self.deliveries = 0
        self.ledger = Ledger(self.path)
        rows = [payout_row(self.provider, i, a) for i, a in enumerate(AMOUNTS)]
        plan_rows(self.ledger, self.provider, rows)

    def teardown(self) -> None:
        self.ledger.close()
        self.adapter.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _engine(self, ledger: Ledger) -> Engine:
        return Engine(
            ledger=ledger,
            provider=self.adapter,
            batch="b",
            concurrency=1,
            retry=RetryPolicy(max_tries=2),
            sleep=lambda s: None,
            clock=lambda: dt.datetime.now(dt.UTC) + self.later,
        )

    def _observe(self) -> None:
        for payout in book(self.emulator, self.provider):
            history = self.seen.setdefault(payout.ref, [])
            if payout.wire not in history:
                history.append(payout.wire)

    def _deliver(self, picks: Picks) -> None:
        """Valid callbacks for any payout the provider holds, with any status it has had."""
        self._observe()
        refs = list(self.seen)  # in the order the provider made them: replays the same
        if picks is None:
            picks = [(i, j) for i, ref in enumerate(refs) for j in range(len(self.seen[ref]))]
        for which, status in picks:
            if not refs:
                return
            ref = refs[which % len(refs)]
            self._send(ref, self.seen[ref][status % len(self.seen[ref])])

    def _send(self, ref: str, wire: Any) -> None:
        self.deliveries += 1
        reply = self.receiver.handle(
            self.provider, *signed(self.provider, ref, wire, self.emulator, f"d{self.deliveries}")
        )
        assert reply.status in (200, 202), reply  # 202: a payout whose answer is held

    # -- steps ------------------------------------------------------------------------

    def _steps(self, steps: tuple[str, ...], held: bool, picks: Picks) -> None:
        """Engine steps; with ``held``, the callbacks arrive while their first create is held
        at the provider (after the payout was made, before its answer), else after them."""
        if held:
            with in_thread(
                self.path, self.provider, self.emulator, self.gate, *steps, make=self._engine
            ):
                self._deliver(picks)
            return
        engine = self._engine(self.ledger)
        for name in steps:
            getattr(engine, name)()
        self._deliver(picks)

    @initialize()
    def first_run(self) -> None:
        self._steps(("settle", "send_planned"), False, [])

    @rule(held=st.booleans(), picks=CALLBACKS)
    def run(self, held: bool, picks: Picks) -> None:
        self._steps(("settle", "send_planned"), held, picks)

    @rule(held=st.booleans(), picks=CALLBACKS)
    def retry(self, held: bool, picks: Picks) -> None:
        self._steps(("settle", "retry_failed"), held, picks)

    @rule(picks=CALLBACKS)
    def retry_with_callbacks_in_flight(self, picks: Picks) -> None:
        """The moment of issue 11 (1b): callbacks while a retry's create is at the provider."""
        self._steps(("settle", "retry_failed"), True, picks)

    @rule(picks=CALLBACKS)
    def status(self, picks: Picks) -> None:
        """Lookups: the emulation moves a payout to its end when it is looked up."""
        self._steps(("settle", "refresh"), False, picks)

    @rule(picks=CALLBACKS)
    def callbacks(self, picks: Picks) -> None:
        self._deliver(picks)

    @rule(which=st.integers(0, 99), cancel=st.booleans(), notify=st.booleans())
    def provider_ends_a_payout(self, which: int, cancel: bool, notify: bool) -> None:
        """The provider fails or cancels a live payout (what makes a retry necessary), and
        maybe calls back at once."""
        live = [p for p in book(self.emulator, self.provider) if p.status not in DEAD]
        if live:
            wire = (CANCELLED_WIRE if cancel else FAILED_WIRE)[self.provider]
            ref = live[which % len(live)].ref
            set_status(self.emulator, self.provider, ref, wire)
            self._observe()
            if notify:
                self._send(ref, wire)

    @rule(which=st.integers(0, 99))
    def provider_fails_a_payout_and_calls_back(self, which: int) -> None:
        self.provider_ends_a_payout(which, cancel=False, notify=True)

    @rule(kind=st.sampled_from(["drop_after", "5xx_before"]))
    def next_create_goes_wrong(self, kind: str) -> None:
        """The next create's answer is lost after the payout was made, or it never got there."""
        self.emulator.faults.clear()
        self.emulator.faults.add(Fault(self.provider, kind, op="create", times=1))

    @rule()
    def time_passes(self) -> None:
        """Past the provider's grace period: "not found" may now be believed."""
        self.later += dt.timedelta(seconds=self.adapter.grace_seconds + 1)

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def one_live_payout_per_row_and_every_payout_known(self) -> None:
        keys = attempt_keys(self.ledger, "b")
        held = book(self.emulator, self.provider)
        unknown = [p.ref for p in held if p.key not in keys]
        assert not unknown, f"payouts whose key the ledger never committed: {unknown}"
        live = Counter(keys[p.key or ""] for p in held if p.status not in DEAD)
        assert all(n <= 1 for n in live.values()), f"rows paid twice: {live}"

    @invariant()
    def no_accepted_payout_is_discarded(self) -> None:
        keys = attempt_keys(self.ledger, "b")
        rows = {r.row_key: r for r in self.ledger.rows("b")}
        for payout in book(self.emulator, self.provider):
            if payout.status in DEAD or payout.key not in keys:
                continue
            row = rows[keys[payout.key]]
            assert row.status not in DEAD, (
                f"payout {payout.ref} is live at the provider, but its row is {row.status}"
            )

    @invariant()
    def dead_rows_sent_nothing_and_nothing_is_left_sending(self) -> None:
        for row in self.ledger.rows("b"):
            assert row.status is not RowStatus.SENDING, row
            if row.status in DEAD:
                assert (row.amount_sent, row.fee) == (None, None), row


def _machine(provider: str) -> type[Interleaving]:
    # type() with Interleaving as the only base makes a subclass of it
    machine = cast(
        type[Interleaving],
        type(f"Interleaving_{provider}", (Interleaving,), {"provider": provider}),
    )
    machine.TestCase.settings = settings(
        max_examples=600 if SLOW else 50,
        stateful_step_count=30 if SLOW else 15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    return machine


TestKeyed = _machine("2328io").TestCase
TestKeyless = _machine("oxapay").TestCase
if SLOW:
    TestKeyedPontis = _machine("pontis").TestCase
    TestKeylessTheDex = _machine("thedex").TestCase
