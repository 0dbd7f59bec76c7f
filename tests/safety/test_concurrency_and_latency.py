"""Two processes on one batch, and a provider slower than the client's timeout.

Each race is driven by a gate in the emulation: it holds a request until the test opens it.
No sleep decides an outcome, so the tests mean the same on an idle and on a loaded machine
(the timeouts given to waits only stop a broken run from hanging the suite)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from batchpay.emulator import Fault, Gate
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from tests.safety.helpers import check_invariants, driver, driver_args, emulation, write_sheet

HANG = 120  # seconds: only a broken run waits this long


def _wait_held(gate: Gate, n: int, process: subprocess.Popen[str]) -> None:
    """Wait until ``n`` requests are held at ``gate``, failing at once if the process died."""
    while not gate.wait_arrived(n, timeout=0.5):
        assert process.poll() is None, process.communicate()
    assert gate.arrived == n


def test_two_concurrent_runs_on_one_batch(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", "oxapay", 30)
    with emulation() as server:
        gate = Gate()  # the first run's first payout waits here, so that run holds the batch
        server.emulator.faults.add(Fault("oxapay", "hold", times=1, gate=gate))
        # the first run waits for its held answer as long as it takes the second to run
        wait = ("--read-timeout", str(HANG))
        args = driver_args(sheet, "oxapay", tmp_path / "l.sqlite", server.url, *wait)
        first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_held(gate, 1, first)
        second = subprocess.run(args, capture_output=True, text=True, timeout=HANG, check=False)
        assert first.poll() is None  # the second ran to its end while the first was mid-send
        gate.open()
        _, err = first.communicate(timeout=HANG)
        assert second.returncode == 4, second.stderr
        assert "another batchpay process is working on batch 'b'" in second.stderr
        assert first.returncode == 0, err
        assert server.emulator["oxapay"].count() == 30
        check_invariants(tmp_path / "l.sqlite", server.emulator, "oxapay")


def _slow_provider(case: Path, grace: str) -> int:
    """Three payouts whose creation is held past the client's timeout: the first run gives
    up on each, a second run comes while they are still held, then they land, and a third
    run settles. Returns how many payouts the provider made."""
    sheet = write_sheet(case / "s.csv", "oxapay", 3)
    with emulation() as server:
        gate = Gate()
        server.emulator.faults.add(Fault("oxapay", "hold", times=3, gate=gate))
        run = ["--grace", grace, "--read-timeout", "0.2"]
        args = driver_args(sheet, "oxapay", case / "l.sqlite", server.url, *run)
        first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_held(gate, 3, first)  # each was held until the client timed out on it
        _, err = first.communicate(timeout=HANG)
        assert first.returncode == 3, err  # timed out: outcome unknown
        again = driver(sheet, "oxapay", case / "l.sqlite", server.url, *run)
        assert again.returncode in (0, 3), again.stderr
        assert server.emulator["oxapay"].count() == (0 if grace != "0" else 3)
        gate.open()  # the slow payouts land now, after every client gave up on them
        assert gate.wait_done(3, timeout=HANG)
        final = driver(sheet, "oxapay", case / "l.sqlite", server.url, *run)
        assert final.returncode in (0, 3), final.stderr
        if grace != "0":
            check_invariants(case / "l.sqlite", server.emulator, "oxapay", settled=False)
            with Ledger(case / "l.sqlite") as ledger:
                assert {r.status for r in ledger.rows("b")} <= {
                    RowStatus.UNKNOWN,
                    RowStatus.PENDING,
                    RowStatus.COMPLETED,
                }
        return server.emulator["oxapay"].count()


def test_slow_provider_without_a_key_never_pays_twice(tmp_path: Path) -> None:
    """Processing slower than the client's timeout: the payout appears after we gave up.
    The grace period is an hour, so no machine is slow enough to reach its end in this test."""
    counts = {}
    for grace in ("3600", "0"):  # "0" is the control: it must show the race is real
        case = tmp_path / f"grace-{grace}"
        case.mkdir()
        counts[grace] = _slow_provider(case, grace)
    assert counts["3600"] == 3  # every row paid exactly once
    assert counts["0"] == 6  # without the grace period every row is paid twice
