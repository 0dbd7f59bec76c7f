"""Shared by the worker proofs: several batchpay worker processes on one PostgreSQL ledger
against one emulation server, each killed at seeded moments of its own progress and
restarted until it ends by itself; then a late worker settles what the dead left behind."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from batchpay.emulator.base import LIMITED, Seen
from batchpay.emulator.server import EmulatorServer

WORKER = Path(__file__).with_name("worker.py")
HANG = 600  # seconds: only a broken run takes this long


@dataclass
class Crew:
    """How a proof runs its workers; ``kills`` counts the SIGKILLs, ``exits`` each worker's
    last exit code, ``sweeps`` the late worker's runs."""

    sheet: Path
    provider: str
    ledger: str
    server: EmulatorServer
    work: Path
    rate: float = 0.0  # float-ok: requests per second, shared by every worker
    concurrency: int = 4
    kills: int = 0
    exits: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    sweeps: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def args(self, worker: str, *extra: str) -> list[str]:
        work = self.work / worker
        work.mkdir(parents=True, exist_ok=True)
        return [
            sys.executable,
            str(WORKER),
            "--sheet",
            str(self.sheet),
            "--provider",
            self.provider,
            "--ledger",
            self.ledger,
            "--base-url",
            self.server.url,
            "--worker",
            worker,
            "--work-dir",
            str(work),
            "--rate",
            str(self.rate),
            "--concurrency",
            str(self.concurrency),
            *extra,
        ]

    def _slot(self, worker: str, kill_points: list[str]) -> None:
        """One worker: started, killed at each of its kill points it reaches, restarted."""
        for point in [*kill_points, ""]:
            extra = ("--kill-at", point) if point else ()
            done = subprocess.run(
                self.args(worker, *extra), capture_output=True, text=True, timeout=HANG
            )
            with self._lock:
                if done.returncode == -9:
                    self.kills += 1
                    continue
                self.exits[worker] = done.returncode
                if done.returncode not in (0, 3):
                    self.errors.append(f"{worker}: exit {done.returncode}: {done.stderr[-2000:]}")
                return
        with self._lock:
            self.errors.append(f"{worker}: killed at every point")

    def run(self, schedule: dict[str, list[str]]) -> None:
        """Run the workers of ``schedule`` (name -> kill points) at once, to their ends."""
        threads = [
            threading.Thread(target=self._slot, args=(name, points))
            for name, points in schedule.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(HANG)
        assert not self.errors, self.errors

    def sweep(self, late: float = 7200.0, times: int = 6) -> int:  # float-ok
        """Once every worker has exited and the emulation has processed everything that
        reached it: a new worker whose clock runs ``late`` seconds ahead (every lease and
        grace period has expired for it) runs until the batch is settled; its exit code."""
        assert self.server.wait_idle(), "the emulation is still serving a dead worker"
        code = -1
        for _ in range(times):
            self.sweeps += 1
            done = subprocess.run(
                self.args("sweeper", "--late", str(late)),
                capture_output=True,
                text=True,
                timeout=HANG,
            )
            code = done.returncode
            if code == 0:
                break
            assert code == 3, f"sweeper: exit {code}: {done.stderr[-2000:]}"
        return code


def kill_schedule(rng: random.Random, workers: int, kills: int, most: int) -> dict[str, list[str]]:
    """``kills`` seeded kill points per worker: at its Nth request, just before it leaves or
    just after its answer came back (or failed). A worker's first point is at its first
    request, which it is certain to make when the emulation holds every worker's first
    request at a ``Barrier`` until all have made one; the later points (N up to ``most``)
    fall wherever the seed puts them, and a worker starved of rows may not reach them."""
    return {
        f"w{i + 1}": [
            f"{1 if k == 0 else rng.randint(1, most)}:{rng.choice(('before', 'after'))}"
            for k in range(kills)
        ]
        for i in range(workers)
    }


def busiest_window(
    log: list[Seen],
    seconds: float = 1.0,  # float-ok
    by_slot: bool = False,
) -> int:
    """The most requests the emulation saw in any span of ``seconds`` (limited ones too), by
    arrival time, or (``by_slot``) by the rate-limit slot each client said it took."""
    times = sorted(s.slot if by_slot else s.at for s in log)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def outcomes(log: list[Seen]) -> Counter[str]:
    return Counter(s.outcome for s in log)


__all__ = ["LIMITED", "Crew", "busiest_window", "kill_schedule", "outcomes"]
