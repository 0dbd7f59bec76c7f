"""Several workers on one batch (PostgreSQL ledger), in process, each race driven by a gate
or by an injected clock, never by sleeping:

* two workers send disjoint rows, each row once;
* the rows a dead worker left ``sending`` stay its own until its lease expires, then another
  worker settles them: looked up first, recorded if the provider has them, resent (same key)
  only if it provably does not;
* a worker whose lease runs out before a request could leave does not send it;
* the shared rate limit spaces the requests of all workers together, and a 429's
  Retry-After holds back every worker.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest

from batchpay.config import load_settings
from batchpay.emulator import Emulator, Fault, Gate
from batchpay.keys import attempt_key
from batchpay.ledger import Intent, Ledger
from batchpay.model import PayoutRow
from batchpay.plan import make_plan
from batchpay.providers import open_provider
from batchpay.providers.base import PayoutRequest
from batchpay.send import Engine
from batchpay.send.claiming import Claimer
from batchpay.send.ratelimit import SharedRateLimiter
from batchpay.statuses import RowStatus
from tests.conftest import TRON

ACCEPTED = [RowStatus.PENDING, RowStatus.PROCESSING, RowStatus.COMPLETED]
T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
HANG = 60  # seconds: only a broken test waits this long


class Clock:
    """A clock the test moves; it never moves by itself."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:  # float-ok
        self.now += dt.timedelta(seconds=seconds)


def _plan(ledger: Ledger, n: int) -> None:
    rows = [
        PayoutRow(
            row=i + 2,
            reference=f"W-{i:03d}",
            amount_requested=Decimal(f"{10 + i}.5"),
            amount=Decimal(f"{10 + i}.5"),
            rounding_delta=Decimal(0),
            currency="USDT",
            network="TRON",
            address=TRON[i % 4],
        )
        for i in range(n)
    ]
    ledger.save_plan(
        make_plan("b", "2328io", "s.csv", "0" * 64, rows),
        sandbox=False,
        rounding="down",
        fee_option="deduct",
    )


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


def _with_claims(url: str, emulator: Emulator, worker: str, clock: Clock) -> Engine:
    ledger = Ledger(url)
    settings = load_settings(environ=emulator.env())
    return Engine(
        ledger=ledger,
        provider=open_provider("2328io", settings, transport=emulator.transport()),
        batch="b",
        concurrency=4,
        clock=clock,
        claims=Claimer(ledger, "b", worker, clock=clock),
    )


@pytest.fixture
def workers(pg_url: str, emulator: Emulator) -> Iterator[dict[str, Engine]]:
    clock = Clock()
    with Ledger(pg_url) as ledger:
        _plan(ledger, 60)
    engines = {name: _with_claims(pg_url, emulator, name, clock) for name in ("w1", "w2")}
    yield engines
    for engine in engines.values():
        engine.provider.close()
        engine.ledger.close()


def _creates(ledger: Ledger) -> Counter[str]:
    """Create requests per row, from the ledger's attempts."""
    return Counter(a.row_key for a in ledger.attempts("b") if a.action == "create")


def test_two_workers_send_disjoint_rows_each_once(
    workers: dict[str, Engine], emulator: Emulator
) -> None:
    gate = Gate()  # w1's first payout waits here until w2 has sent its share
    emulator.faults.add(Fault("2328io", "hold", times=1, gate=gate))
    first = threading.Thread(target=workers["w1"].send_planned)
    first.start()
    assert gate.wait_arrived(1, timeout=HANG)
    workers["w2"].send_planned()  # claims the rows w1 has not: the second window
    gate.open()
    first.join(HANG)
    ledger = workers["w1"].ledger
    assert emulator["2328io"].count() == 60
    assert set(_creates(ledger).values()) == {1} and len(_creates(ledger)) == 60
    assert workers["w1"].requests == 32 and workers["w2"].requests == 28
    assert {r.status for r in ledger.rows("b")} <= set(ACCEPTED)


def test_a_dead_workers_rows_wait_for_its_lease_then_are_looked_up_before_any_resend(
    workers: dict[str, Engine], emulator: Emulator
) -> None:
    dead, alive = workers["w1"], workers["w2"]
    assert dead.claims is not None
    window = next(dead.claims.windows([RowStatus.PLANNED], 10))
    requests = [
        PayoutRequest(
            row_key=r.row_key,
            attempt=1,
            key=attempt_key(r.row_key, 1, dead.provider.key_form),
            reference=r.reference,
            amount=r.amount,
            currency=r.currency,
            network=r.network,
            address=r.address,
        )
        for r in window
    ]
    dead.ledger.begin("b", [Intent(q.row_key, 1, q.key, "create", {}) for q in requests])
    # these reached the provider; the worker died before their answers
    first_refs = {q.row_key: dead.provider.create(q).provider_ref for q in requests[:5]}
    dead.ledger.close()
    assert isinstance(alive.clock, Clock)
    alive.clock.advance(60)  # within the lease: the rows are still the dead worker's
    alive.settle()
    assert emulator["2328io"].count() == 5 and alive.requests == 0
    assert {r.status for r in alive.ledger.rows("b", [RowStatus.SENDING])} == {RowStatus.SENDING}
    alive.clock.advance(61)  # past the lease's end
    alive.settle()
    # 2328.io is asked by key: a create with the same key is its lookup, and it answers
    # with the payout it holds; the five that never arrived are made now, once each
    assert emulator["2328io"].count() == 10
    assert sorted(Counter(p["order_id"] for p in emulator["2328io"].payouts).values()) == [1] * 10
    for row in window:
        actions = [a.action for a in alive.ledger.attempts("b", row.row_key)]
        assert actions[:2] == ["create", "lookup"], actions  # looked up before any resend
    settled = {r.row_key: r for r in alive.ledger.rows("b", ACCEPTED)}
    assert len(settled) == 10
    assert {k: settled[k].provider_ref for k in first_refs} == first_refs


def test_no_request_leaves_once_the_lease_has_run_out(
    workers: dict[str, Engine], emulator: Emulator
) -> None:
    engine = workers["w1"]
    claims = engine.claims
    assert claims is not None and isinstance(engine.clock, Clock)
    clock = engine.clock
    hold = claims.hold

    def stall(rows: list) -> list:  # type: ignore[type-arg]
        kept = hold(rows)  # intents are committed next; the worker then stalls past its lease
        clock.advance(claims.lease - claims.margin)
        return kept

    claims.hold = stall  # type: ignore[method-assign]
    engine.send_planned()
    assert emulator["2328io"].count() == 0 and engine.requests == 0
    rows = engine.ledger.rows("b")
    assert {r.status for r in rows} == {RowStatus.UNKNOWN}
    assert {r.error_code for r in rows} == {"lease_expired"}


def test_the_shared_rate_limit_spaces_every_workers_requests(pg_url: str) -> None:
    ledger = Ledger(pg_url)  # builds the schema, rate_slots included
    now = [1_000_000.0]  # float-ok: unix seconds, moved by the test
    slept: list[float] = []  # float-ok

    def sleep(seconds: float) -> None:  # float-ok
        slept.append(seconds)

    one, two = (
        SharedRateLimiter(10, "2328io", ledger.side_connection(), clock=lambda: now[0], sleep=sleep)
        for _ in range(2)
    )
    for limiter in (one, two, one, two):
        limiter.acquire()
    interval = 1 / (10 * 0.96)
    assert slept == pytest.approx([interval, 2 * interval, 3 * interval], abs=1e-5)
    one.push_back(5)  # one worker was told Retry-After: 5 ...
    slept.clear()
    two.acquire()  # ... and the other waits for it too
    assert slept == pytest.approx([5.0], abs=1e-5)
    one.close()
    two.close()
    ledger.close()
