"""Three workers share one 1000-row batch on a PostgreSQL ledger, against the emulation served
over HTTP with 5% of answers dropped after processing, 5% 5xx after processing and 5% 429s
(seeded). Each worker is SIGKILLed at seeded moments of its own progress (its Nth request,
just before it leaves or just after its answer) and restarted until it ends by itself; then a
worker whose clock runs past every lease settles what the dead left behind. After that:

* no row is paid twice and none is lost (payouts per key in the emulation's book);
* the ledger agrees with the provider, row by row (reference, amount, key);
* the provider's rate limit held for the workers together, within 5%, measured from the
  emulation's request log, and none of the 429s were for going over it (the emulation tells
  its injected 429s apart from limit-exceeded ones).

A failing seed replays: BATCHPAY_WORKER_SEEDS=31 (comma-separated); BATCHPAY_SLOW=1 runs more."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from batchpay.emulator import Fault
from tests.safety.helpers import check_invariants, emulation, write_sheet
from tests.safety.workers import LIMITED, Crew, busiest_window, kill_schedule, outcomes

ROWS = 1000
RATE = 150  # requests per second, the emulation's limit and the workers' shared setting
PROVIDERS = ["oxapay", "2328io", "thedex", "pontis"]


def _seeds() -> list[int]:
    chosen = os.environ.get("BATCHPAY_WORKER_SEEDS")
    if chosen:
        return [int(s) for s in chosen.split(",")]
    return list(range(31, 39)) if os.environ.get("BATCHPAY_SLOW") else [31, 32, 33]


@pytest.mark.parametrize("seed", _seeds())
def test_three_workers_killed_and_restarted(
    tmp_path: Path,
    pg_url: str,
    seed: int,
) -> None:
    rng = random.Random(seed)
    provider = PROVIDERS[seed % len(PROVIDERS)]
    sheet = write_sheet(tmp_path / "s.csv", provider, ROWS)
    with emulation() as server:
        emulated = server.emulator[provider]
        emulated.rate_limit = RATE
        faults = server.emulator.faults
        faults.seed(seed)
        for kind in ("drop_after", "5xx_after", "429"):
            faults.add(
                Fault(provider, kind, times=-1, status=503, probability=0.05, retry_after="0")
            )
        crew = Crew(sheet, provider, pg_url, server, tmp_path, rate=RATE)
        crew.run(kill_schedule(rng, workers=3, kills=2, most=300))
        assert crew.sweep() == 0, f"seed {seed}: never settled"
        ledger = check_invariants(pg_url, server.emulator, provider)
        log = list(emulated.log)
    assert ledger == {"rows": ROWS, "payouts": ROWS}, f"seed {seed}"
    assert crew.kills >= 3, f"seed {seed}: only {crew.kills} kills; the test proved less"
    workers = {s.worker for s in log}
    assert {"w1", "w2", "w3"} <= workers, f"seed {seed}: not every worker sent: {workers}"
    seen = outcomes(log)
    assert seen["429"] > 0 and seen["drop_after"] > 0 and seen["5xx_after"] > 0, seen
    assert seen[LIMITED] == 0, f"seed {seed}: the workers went over the rate limit: {seen}"
    assert busiest_window(log) <= RATE * 1.05, f"seed {seed}: {busiest_window(log)} in 1 s"
