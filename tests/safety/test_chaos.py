"""Chaos: 1000 rows against the emulation with failures before processing, answers dropped
after processing, 5xx after processing, 429s, and the batchpay process killed at random,
for several seeds. Zero duplicates, zero lost. A failing seed is printed and replays exactly:
BATCHPAY_CHAOS_SEEDS=1234 (comma-separated) runs chosen seeds; BATCHPAY_SLOW=1 runs more."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from batchpay.emulator import Fault
from tests.safety.helpers import check_invariants, driver_args, emulation, write_sheet

ROWS = 1000


def _seeds() -> list[int]:
    chosen = os.environ.get("BATCHPAY_CHAOS_SEEDS")
    if chosen:
        return [int(s) for s in chosen.split(",")]
    return [11, 12, 13, 14, 15, 16, 17, 18] if os.environ.get("BATCHPAY_SLOW") else [11, 12]


PROVIDERS = ["oxapay", "2328io", "thedex", "pontis"]


@pytest.mark.parametrize("seed", _seeds())
def test_chaos(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    provider = PROVIDERS[seed % len(PROVIDERS)]
    sheet = write_sheet(tmp_path / "s.csv", provider, ROWS)
    with emulation() as server:
        faults = server.emulator.faults
        faults.seed(seed)
        for kind, chance in (
            ("5xx_before", 0.03),
            ("drop_after", 0.05),
            ("5xx_after", 0.02),
            ("429", 0.05),
        ):
            faults.add(
                Fault(provider, kind, times=-1, status=503, probability=chance, retry_after="0")
            )
        args = driver_args(sheet, provider, tmp_path / "l.sqlite", server.url, "--concurrency", "4")
        kills, outcome = 0, None
        for attempt in range(25):
            process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + (rng.uniform(0.5, 3.0) if attempt < 4 else 300)
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait()
            assert process.stderr is not None
            error = process.stderr.read().decode()
            process.stderr.close()
            outcome = process.returncode
            if outcome == 0:
                break
            assert outcome in (3, -9), f"seed {seed}: exit {outcome}: {error[-2000:]}"
        facts = check_invariants(
            tmp_path / "l.sqlite", server.emulator, provider, settled=False
        )  # duplicates and lost payouts first
        assert outcome == 0, f"seed {seed}: never settled"
        facts = check_invariants(tmp_path / "l.sqlite", server.emulator, provider)
    assert facts == {"rows": ROWS, "payouts": ROWS}, f"seed {seed}"
    assert kills >= 1, f"seed {seed}: no process was killed; the test proved less than it says"
