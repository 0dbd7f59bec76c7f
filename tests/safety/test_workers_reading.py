"""``status`` and ``report`` read a PostgreSQL batch while a worker writes it: a gate in the
emulation holds the worker's 11th payout mid-batch; status and report run to their ends
meanwhile, leave the worker's rows alone (they are its, under its lease), a second process
under the worker's name exits 4, and the worker then finishes the batch. (On SQLite a second
process on the batch exits 4: tests/safety/test_concurrency_and_latency.py.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

from batchpay import api
from batchpay.config import load_settings
from batchpay.emulator import Fault, Gate
from batchpay.emulator.keys import EmulatorKeys
from batchpay.ledger import Ledger
from batchpay.statuses import RowStatus
from tests.safety.helpers import check_invariants, emulation, write_sheet
from tests.safety.workers import HANG, Crew

ROWS = 40


def test_status_and_report_read_while_a_worker_is_mid_batch(
    tmp_path: Path,
    pg_url: str,
) -> None:
    sheet = write_sheet(tmp_path / "s.csv", "oxapay", ROWS)
    with emulation() as server:
        gate = Gate()
        server.emulator.faults.add(Fault("oxapay", "hold", times=1, after=10, gate=gate))
        crew = Crew(sheet, "oxapay", pg_url, server, tmp_path, concurrency=1)
        worker = subprocess.Popen(
            crew.args("w1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        while not gate.wait_arrived(1, timeout=0.5):
            assert worker.poll() is None, worker.communicate()
        settings = load_settings(
            {"ledger": pg_url, "report_dir": tmp_path / "reports"},
            environ=EmulatorKeys().env(server.url),
            cwd=tmp_path,
        )
        with Ledger(pg_url) as ledger:
            before = {r.row_key: r.status for r in ledger.rows("b")}
        in_flight = {k for k, s in before.items() if s is RowStatus.SENDING}
        assert in_flight, before  # the worker's window is committed and partly sent

        seen = api.status("b", settings=settings)
        files = api.report("b", settings=settings)

        assert gate.done == 0 and worker.poll() is None  # both ran while the worker was held
        assert seen.summary is not None and seen.summary.rows == ROWS
        assert {f.suffix for f in files} >= {".csv", ".html"}
        with Ledger(pg_url) as ledger:
            after = {r.row_key: r.status for r in ledger.rows("b")}
            assert ledger.attempts("b") and not [
                a for a in ledger.attempts("b") if a.row_key in in_flight and a.action == "lookup"
            ]  # status did not touch the worker's rows in flight
        assert {k for k, s in after.items() if s is RowStatus.SENDING} == in_flight
        # a second process under the same worker name exits 4, as a second run does on SQLite
        twin = subprocess.run(crew.args("w1"), capture_output=True, text=True, timeout=HANG)
        assert twin.returncode == 4, twin.stderr
        assert "as worker 'w1'" in twin.stderr and "BATCHPAY_WORKER" in twin.stderr
        gate.open()
        _, err = worker.communicate(timeout=HANG)
        assert worker.returncode == 0, err
        check_invariants(pg_url, server.emulator, "oxapay")
