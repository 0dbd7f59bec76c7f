"""Two processes on one batch, and a provider slower than the client's timeout."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from batchpay.emulator import Fault
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from tests.safety.helpers import check_invariants, driver, driver_args, emulation, write_sheet


def test_two_concurrent_runs_on_one_batch(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", "oxapay", 30)
    with emulation() as server:
        # slow the provider so the first run is still going when the second starts
        server.emulator.faults.add(Fault("oxapay", "latency", times=-1, seconds=0.05))
        args = driver_args(sheet, "oxapay", tmp_path / "l.sqlite", server.url)
        first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while not server.emulator["oxapay"].requests:  # the first run is sending
            assert first.poll() is None, first.communicate()
            time.sleep(0.02)
        second = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
        _, err = first.communicate(timeout=120)
        assert second.returncode == 4, second.stderr
        assert first.returncode == 0, err
        server.emulator.faults.clear()
        check_invariants(tmp_path / "l.sqlite", server.emulator, "oxapay")


def test_slow_provider_without_a_key_never_pays_twice(tmp_path: Path) -> None:
    """Processing slower than the client's timeout: the payout appears after we gave up."""
    counts = {}
    for grace in ("10", "0"):  # "0" is the control: it must show the race is real
        case = tmp_path / f"grace-{grace}"
        case.mkdir()
        sheet = write_sheet(case / "s.csv", "oxapay", 3)
        with emulation() as server:
            # slower than the client's timeout and than a process start (about a second)
            server.emulator.faults.add(Fault("oxapay", "latency", times=3, seconds=2.5))
            run = ["--grace", grace, "--read-timeout", "0.2"]
            first = driver(sheet, "oxapay", case / "l.sqlite", server.url, *run)
            assert first.returncode == 3, first.stderr  # timed out: outcome unknown
            again = driver(sheet, "oxapay", case / "l.sqlite", server.url, *run)
            assert again.returncode in (0, 3), again.stderr
            time.sleep(2.5)  # the slow payouts have landed by now
            final = driver(sheet, "oxapay", case / "l.sqlite", server.url, *run)
            assert final.returncode in (0, 3), final.stderr
            counts[grace] = server.emulator["oxapay"].count()
            if grace == "10":
                check_invariants(case / "l.sqlite", server.emulator, "oxapay", settled=False)
                with Ledger(case / "l.sqlite") as ledger:
                    assert {r.status for r in ledger.rows("b")} <= {
                        RowStatus.UNKNOWN,
                        RowStatus.PENDING,
                        RowStatus.COMPLETED,
                    }
    assert counts["10"] == 3  # every row paid exactly once
    assert counts["0"] > 3  # without the grace period the same test sees double payments
