"""The PostgreSQL server drops a worker's connections mid-batch (a restart, a failover, an
administrator's pg_terminate_backend): the payout the provider took while the ledger was gone
is not lost. The worker stops with exit 3 (stopped after payouts, the ledger exact as after a
crash), and a later run settles the rows in flight by a lookup; no row is paid twice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import sqlalchemy as sa

from batchpay.emulator import Fault, Gate
from batchpay.ledger import Ledger
from batchpay.statuses import RowStatus
from tests.safety.helpers import check_invariants, emulation, write_sheet
from tests.safety.workers import HANG, Crew

ROWS = 20


def _drop_every_other_connection(url: str) -> int:
    """Terminate every session on the ledger's database but this one; return how many."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            dropped = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid != pg_backend_pid()"
                )
            ).scalar()
    finally:
        engine.dispose()
    return int(dropped or 0)


def test_the_server_dropping_a_worker_mid_batch_stops_it_with_3_and_the_next_run_settles(
    tmp_path: Path, pg_url: str
) -> None:
    sheet = write_sheet(tmp_path / "s.csv", "oxapay", ROWS)
    with emulation() as server:
        gate = Gate()  # the 6th payout is held at the provider, its intent committed
        server.emulator.faults.add(Fault("oxapay", "hold", times=1, after=5, gate=gate))
        crew = Crew(sheet, "oxapay", pg_url, server, tmp_path, concurrency=1)
        worker = subprocess.Popen(
            crew.args("w1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        while not gate.wait_arrived(1, timeout=0.5):
            assert worker.poll() is None, worker.communicate()
        assert _drop_every_other_connection(pg_url) >= 1
        gate.open()  # the provider takes the payout; its answer finds the ledger gone
        _, err = worker.communicate(timeout=HANG)
        assert worker.returncode == 3, err
        assert "Traceback" not in err and "ledger" in err

        # the rows it had committed but not sent are unknown until their grace has passed
        # (the provider may yet show them): a later run, clock ahead, settles them all
        assert crew.sweep() == 0
        with Ledger(pg_url) as ledger:
            rows = ledger.rows("b")
        assert [r for r in rows if r.status not in (RowStatus.PENDING, RowStatus.COMPLETED)] == []
        check_invariants(pg_url, server.emulator, "oxapay")  # each row paid once, none lost
        assert len(server.emulator["oxapay"].payouts) == ROWS
