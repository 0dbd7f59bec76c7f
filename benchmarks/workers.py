"""The PostgreSQL measurements (``python -m benchmarks.run --workers``): several workers on one
batch against a latency-bound emulation, and the write-ahead cost per row on PostgreSQL and on
SQLite. They need a PostgreSQL server: ``BATCHPAY_BENCH_PG`` names one
(``postgresql://user@/postgres?host=/run/postgresql``), else a throwaway cluster is started
with the server binaries found on this machine (benchmarks/pgserver.py, durable settings).

``python -m benchmarks.workers URL BATCH WORKER EMULATOR CONCURRENCY`` is one worker: it
claims and sends rows of a planned batch until none is left, and prints when it started and
ended (after its imports and set-up, so start-up is not counted) and how many it sent.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.cases import DATA, Spec, Timed
from benchmarks.generate import csv_sheet

LATENCY = 0.2  # float-ok: seconds the emulation takes to answer each create
ROOT = Path(__file__).resolve().parent.parent


def _speedup(runs: list[dict[str, float]], ratio: float | None) -> tuple[bool, str]:
    """3 workers against 1: the throughput ratio (1 / the time ratio), at least 2.5x."""
    speedup = 1 / ratio if ratio else 0.0
    return speedup >= 2.5, f"{speedup:.2f}x throughput"


def _per_row(runs: list[dict[str, float]], ratio: float | None) -> tuple[bool, str]:
    """The write-ahead pair's cost per row on PostgreSQL, and its ratio to SQLite's."""
    ms = statistics.median(r["per_row_ms"] for r in runs)
    return True, f"{ms:.2f} ms a row ({ratio:.2f}x SQLite)" if ratio else f"{ms:.2f} ms a row"


SPECS = [
    Spec(
        "workers",
        "3 workers vs 1 on one batch, PostgreSQL, 200 ms a request (baseline: 1 worker)",
        "workers_three",
        "workers_one",
        "workers",
        ">= 2.5x throughput",
        _speedup,
        runs=2,
    ),
    Spec(
        "writeahead",
        "write-ahead pair per row, PostgreSQL (baseline: SQLite)",
        "write_ahead_pg",
        "write_ahead_sqlite",
        "writeahead",
        "measured",
        _per_row,
    ),
]


@contextmanager
def database() -> Iterator[str]:
    """The URL of a fresh, empty database on the benchmark's PostgreSQL server."""
    import sqlalchemy as sa

    with server() as admin:
        name = f"bench_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(
            admin.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as db:
            db.exec_driver_sql(f"CREATE DATABASE {name}")
        try:
            yield _named(admin, name)
        finally:
            with engine.connect() as db:
                db.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            engine.dispose()


def _named(url: str, database: str) -> str:
    """``url`` naming ``database`` instead of its own."""
    base, mark, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + database + mark + query


@contextmanager
def server() -> Iterator[str]:
    given = os.environ.get("BATCHPAY_BENCH_PG")
    if given:
        yield _named(given, "postgres")
        return
    from benchmarks.pgserver import cluster

    with cluster() as url:
        yield url


def _plan(url: str, size: int) -> None:
    from batchpay.gcpause import paused_gc
    from batchpay.ingest import read_sheet
    from batchpay.ledger import Ledger
    from batchpay.plan import make_plan
    from batchpay.validate import validate_sheet

    with paused_gc():
        sheet = read_sheet(csv_sheet(DATA / f"sheet-{size}.csv", size))
        checked = validate_sheet(sheet, "2328io")
        with Ledger(url) as ledger:
            ledger.save_plan(
                make_plan("bench", "2328io", sheet.name, sheet.sha256, checked.rows),
                sandbox=False,
                rounding="down",
                fee_option="deduct",
            )


def _crew(size: int, workers: int, concurrency: int = 4) -> dict[str, float]:
    """``workers`` worker processes send a planned ``size``-row batch to a 2328.io emulation
    answering each create after LATENCY seconds; seconds from the first start to the last
    end, and payouts made."""
    from batchpay.emulator import Emulator, Fault
    from batchpay.emulator.server import EmulatorServer

    emulator = Emulator()
    emulator.faults.add(Fault("2328io", "latency", times=-1, seconds=LATENCY))
    server = EmulatorServer(emulator)
    server.start()
    try:
        with database() as url:
            _plan(url, size)
            children = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.workers",
                        url,
                        "bench",
                        f"w{i}",
                        server.url,
                        str(concurrency),
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )
                for i in range(workers)
            ]
            ends = [
                json.loads(c.communicate(timeout=3600)[0].strip().splitlines()[-1])
                for c in children
            ]
        payouts = emulator["2328io"].count()
    finally:
        server.stop()
    assert payouts == size, f"{payouts} payouts for {size} rows"
    seconds = max(e["end"] for e in ends) - min(e["start"] for e in ends)
    return {
        "seconds": seconds,
        "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,  # a worker
        "per_second": size / seconds,
        "sent": float(sum(e["sent"] for e in ends)),
    }


def workers_one(size: int, timed: Timed) -> dict[str, float]:
    return _crew(size, 1)


def workers_three(size: int, timed: Timed) -> dict[str, float]:
    return _crew(size, 3)


def _write_ahead(ledger_at: str | Path, size: int) -> float:  # float-ok: seconds per row
    """What the write-ahead pair costs a row, as the engine commits it: intents in windows of
    32 (one transaction each), answers in groups of 4 (one transaction each)."""
    from batchpay.ledger import Intent, Ledger, Outcome
    from batchpay.model import RowStatus
    from batchpay.providers.base import Answer, Disposition

    with Ledger(ledger_at) as ledger:
        rows = ledger.rows("bench", [RowStatus.PLANNED])
        start = time.perf_counter()
        for first in range(0, len(rows), 32):
            window = rows[first : first + 32]
            ids = ledger.begin(
                "bench",
                [Intent(r.row_key, 1, f"k-{r.row_key}", "create", {}) for r in window],
            )
            for group in range(0, len(window), 4):
                ledger.finish(
                    "bench",
                    [
                        Outcome(
                            attempt_id=i,
                            row_key=r.row_key,
                            status=RowStatus.PENDING,
                            disposition=Disposition.ACCEPTED,
                            answer=Answer(
                                RowStatus.PENDING,
                                Disposition.ACCEPTED,
                                provider_ref=f"ref-{r.row_key}",
                                http_status=200,
                                response={"status": "pending"},
                            ),
                        )
                        for r, i in zip(
                            window[group : group + 4], ids[group : group + 4], strict=True
                        )
                    ],
                )
        return (time.perf_counter() - start) / len(rows)


def write_ahead_pg(size: int, timed: Timed) -> dict[str, float]:
    with database() as url:
        _plan(url, size)
        per_row = _write_ahead(url, size)
    return {"seconds": per_row * size, "peak_mib": _peak(), "per_row_ms": per_row * 1000}


def write_ahead_sqlite(size: int, timed: Timed) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "l.sqlite"
        _plan_sqlite(path, size)
        per_row = _write_ahead(path, size)
    return {"seconds": per_row * size, "peak_mib": _peak(), "per_row_ms": per_row * 1000}


def _peak() -> float:  # float-ok: MiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _plan_sqlite(path: Path, size: int) -> None:
    from benchmarks.cases import _planned_ledger

    _planned_ledger(size, "2328io", path.parent).close()


def worker(url: str, batch: str, name: str, emulator: str, concurrency: int) -> None:
    from batchpay.config import load_settings
    from batchpay.emulator.keys import EmulatorKeys
    from batchpay.ledger import Ledger
    from batchpay.providers import open_provider
    from batchpay.send import Engine
    from batchpay.send.claiming import Claimer

    with Ledger(url) as ledger:
        provider = open_provider("2328io", load_settings(environ=EmulatorKeys().env(emulator)))
        engine = Engine(
            ledger=ledger,
            provider=provider,
            batch=batch,
            concurrency=concurrency,
            claims=Claimer(ledger, batch, name),
        )
        start = time.time()
        engine.send_planned()
        end = time.time()
        provider.close()
    print(json.dumps({"start": start, "end": end, "sent": engine.requests}))


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
