"""Real processes, real signals (issue 12, items 2a and 2b).

A loopback emulation holds one payout request at a gate until the test has sent the signal, so
the signal always lands while a request is in flight: no sleeps, no timing margins.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchpay import api
from batchpay.config import load_settings
from batchpay.emulator import Emulator, EmuRequest, EmuResponse
from batchpay.emulator.server import EmulatorServer
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from tests.cli.helpers import as_json, cli, ended
from tests.conftest import sheet_text

PYTHON = [sys.executable, "-m", "batchpay"]
CREATE = ("POST", "/2328io/api/v1/payout")
WAIT = 120  # a failure guard for a process that hangs, not a timing margin


class QuietServer(EmulatorServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client was killed on purpose: its socket is gone


class Gate:
    """Holds the ``n``-th payout request until released; says when it arrived and when the
    emulation has handled it."""

    def __init__(self, emulator: Emulator, n: int) -> None:
        self.arrived, self.release, self.handled = (threading.Event() for _ in range(3))
        self._n, self._seen, self._lock = n, 0, threading.Lock()
        self._handle = emulator.handle
        emulator.handle = self  # type: ignore[method-assign]

    def __call__(self, request: EmuRequest) -> EmuResponse:
        if (request.method, request.path) == CREATE:
            with self._lock:
                self._seen += 1
                mine = self._seen == self._n
            if mine:
                self.arrived.set()
                self.release.wait(WAIT)
                try:
                    return self._handle(request)
                finally:
                    self.handled.set()
        return self._handle(request)


@pytest.fixture
def server() -> Iterator[QuietServer]:
    srv = QuietServer(Emulator())
    srv.start()
    yield srv
    srv.stop()


def _env(server: QuietServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHPAY_")}
    return env | server.emulator.env(server.url)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_keeps_the_ledger_exact_writes_the_report_and_exits_128_plus_n(
    server: QuietServer,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    sig: signal.Signals,
    code: int,
) -> None:
    sheet = workdir / "s.csv"
    sheet.write_text(sheet_text([(f"E-{i:02d}", f"{10 + i}.00") for i in range(20)]))
    gate = Gate(server.emulator, 3)
    args = ["run", str(sheet), "--provider", "2328io", "--batch", "b", "--concurrency", "1"]
    proc = subprocess.Popen(
        [*PYTHON, *args],
        cwd=workdir,
        env=_env(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert gate.arrived.wait(WAIT), "the third payout request never came"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=WAIT)  # exits with the request still held
    finally:
        gate.release.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr
    # two answered, the third in flight: 3 left; of the first window's 16 intents the other 13
    # never left, and the last 4 rows were never planned into a window
    assert "interrupted: 3 sent, 17 not sent; run the same command again" in stderr
    assert stderr.endswith("\n")
    report = workdir / "reports" / "b" / "reconciliation.csv"
    assert report.exists()
    with Ledger(workdir / "batchpay-ledger.sqlite", create=False) as ledger:
        statuses = [r.status for r in ledger.rows("b")]
    assert statuses[:2] != [RowStatus.SENDING] * 2 and RowStatus.SENDING in statuses[2:16]
    assert statuses[16:] == [RowStatus.PLANNED] * 4
    assert report.read_text(encoding="utf-8-sig").count("sending") == statuses.count(
        RowStatus.SENDING
    )

    # the held request reaches the emulation after the process died; the next run resolves
    # every row left in doubt and pays each row exactly once
    assert gate.handled.wait(WAIT)
    for name, value in server.emulator.env(server.url).items():
        monkeypatch.setenv(name, value)
    again = ended(cli(*args, "--json"), 0)
    assert sum(as_json(again)["counts"].values()) == 20
    assert server.emulator["2328io"].count() == 20


def _paid_batch(workdir: Path) -> None:
    sheet = workdir / "s.csv"
    sheet.write_text(sheet_text([(f"E-{i}", f"{10 + i}.00") for i in range(30)]))
    settings = load_settings({"ledger": workdir / "batchpay-ledger.sqlite"}, environ={})
    assert api.run(sheet, "sandbox", "b", settings=settings).exit_code == 0


@pytest.mark.parametrize(
    "args",
    [["status", "--batch", "b"], ["status", "--batch", "b", "--json"], ["validate", "s.csv"]],
)
def test_a_closed_stdout_is_not_a_rejected_sheet(workdir: Path, args: list[str]) -> None:
    """``batchpay status | head -1``: the reader is gone before the first line is written."""
    _paid_batch(workdir)
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [*PYTHON, *args],
            cwd=workdir,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=WAIT,
            check=False,
        )
    finally:
        os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr.strip() == "" or "BrokenPipe" not in proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
