"""Each measurement and its baseline: functions of (size, timed) run in a child process."""

from __future__ import annotations

import resource
import shutil
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.generate import csv_sheet, xlsx_sheet

if TYPE_CHECKING:  # the cases import batchpay inside, so each measures its own imports
    from batchpay.config import Settings
    from batchpay.emulator import EmuRequest, EmuResponse
    from batchpay.ledger import Ledger
    from batchpay.send import Engine

DATA = Path(__file__).resolve().parent / ".data"
Timed = Callable[[Callable[[], object]], dict[str, float]]


def _ratio_at_most(
    limit: float,
) -> Callable[[list[dict[str, float]], float | None], tuple[bool, str]]:
    return lambda runs, ratio: (ratio is not None and ratio <= limit, f"{ratio:.2f}x")


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    name: str
    baseline: str | None
    size: str
    target: str
    judge: Callable[[list[dict[str, float]], float | None], tuple[bool, str]]
    once: bool = False
    runs: int = 0  # this many runs (each in its own process) instead of --repeat


def _memory_judge(runs: list[dict[str, float]], ratio: float | None) -> tuple[bool, str]:
    peak = max(r["peak_mib"] for r in runs)
    return peak < 2048, f"{peak:.0f} MiB"


def _rate_judge(runs: list[dict[str, float]], ratio: float | None) -> tuple[bool, str]:
    achieved = statistics.median(r["achieved"] for r in runs)
    limited = max(r["limited"] for r in runs)
    return abs(achieved - 10) <= 0.5 and limited == 0, f"{achieved:.2f}/s, {limited:.0f}x429"


def _under(
    seconds: float, places: int = 1
) -> Callable[[list[dict[str, float]], float | None], tuple[bool, str]]:
    def judge(runs: list[dict[str, float]], ratio: float | None) -> tuple[bool, str]:
        median = statistics.median(r["seconds"] for r in runs)
        return median < seconds, f"{median:.{places}f} s"

    return judge


SPECS = [
    Spec(
        "csv",
        "ingest + validate, CSV",
        "csv_validate",
        "csv_bare",
        "csv",
        "<= 4x",
        _ratio_at_most(4),
    ),
    Spec(
        "memory",
        "peak memory, CSV validate",
        "csv_validate",
        None,
        "csv",
        "< 2 GB",
        _memory_judge,
        once=True,
    ),
    Spec(
        "xlsx",
        "ingest + validate, XLSX",
        "xlsx_validate",
        "xlsx_bare",
        "xlsx",
        "<= 2x",
        _ratio_at_most(2),
    ),
    Spec(
        "send",
        "send to loopback emulation (2328io)",
        "send",
        "send_bare",
        "send",
        "<= 1.3x",
        _ratio_at_most(1.3),
    ),
    Spec(
        "rate",
        "rate limit 10/s held",
        "rate",
        None,
        "rate",
        "within 5%, no 429",
        _rate_judge,
        once=True,
    ),
    Spec(
        "resume",
        "resume a completed batch",
        "resume",
        "resume_validate",
        "resume",
        "<= 1.5x, 0 requests",
        _ratio_at_most(1.5),
    ),
    Spec("report", "render all report files", "report", None, "resume", "< 10 s", _under(10)),
    Spec(
        "startup",
        "start-up, `batchpay --version` (baseline: `python -c pass`)",
        "startup",
        "startup_bare",
        "startup",
        "< 0.3 s",
        _under(0.3, places=3),
        runs=20,
    ),
]


# -- start-up -----------------------------------------------------------------------------


def _launch(command: list[str], timed: Timed) -> dict[str, float]:
    """One fresh process, timed from spawn to exit; its own peak memory, not this one's."""

    def work() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    result = timed(work)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # MiB (Linux: KiB)
    return result | {"peak_mib": peak}


def startup(size: int, timed: Timed) -> dict[str, float]:
    """`batchpay --version` as a user types it: the installed script beside this Python,
    or ``python -m batchpay`` from a source tree."""
    script = Path(sys.executable).with_name("batchpay")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "batchpay"]
    return _launch([*command, "--version"], timed)


def startup_bare(size: int, timed: Timed) -> dict[str, float]:
    return _launch([sys.executable, "-c", "pass"], timed)


# -- ingest and validate ------------------------------------------------------------------


def csv_validate(size: int, timed: Timed) -> dict[str, float]:
    from batchpay.gcpause import paused_gc
    from batchpay.ingest import read_sheet
    from batchpay.validate import validate_sheet

    path = csv_sheet(DATA / f"sheet-{size}.csv", size)
    result: dict[str, float] = {}

    def work() -> None:
        with paused_gc():  # as api.validate pauses it
            checked = validate_sheet(read_sheet(path), "sandbox")
        assert checked.ok and len(checked.rows) == size
        result["rows"] = len(checked.rows)

    return timed(work) | result


def csv_bare(size: int, timed: Timed) -> dict[str, float]:
    import pandas as pd

    path = csv_sheet(DATA / f"sheet-{size}.csv", size)
    return timed(lambda: pd.read_csv(path, dtype=str))


def xlsx_validate(size: int, timed: Timed) -> dict[str, float]:
    from batchpay.gcpause import paused_gc
    from batchpay.ingest import read_sheet
    from batchpay.validate import validate_sheet

    path = xlsx_sheet(DATA / f"sheet-{size}.xlsx", size)

    def work() -> None:
        with paused_gc():  # as api.validate pauses it
            assert validate_sheet(read_sheet(path), "sandbox").ok

    return timed(work)


def xlsx_bare(size: int, timed: Timed) -> dict[str, float]:
    import openpyxl

    path = xlsx_sheet(DATA / f"sheet-{size}.xlsx", size)

    def work() -> None:
        wb = openpyxl.load_workbook(path, read_only=True)
        for _ in wb.worksheets[0].iter_rows(values_only=True):
            pass
        wb.close()

    return timed(work)


# -- sending ------------------------------------------------------------------------------


def _planned_ledger(size: int, provider: str, workdir: Path) -> Ledger:
    from batchpay.gcpause import paused_gc
    from batchpay.ingest import read_sheet
    from batchpay.ledger import Ledger
    from batchpay.plan import make_plan
    from batchpay.validate import validate_sheet

    with paused_gc():  # as api.run pauses it
        sheet = read_sheet(csv_sheet(DATA / f"sheet-{size}.csv", size))
        checked = validate_sheet(sheet, provider)
        ledger = Ledger(workdir / "l.sqlite")
        ledger.save_plan(
            make_plan("bench", provider, sheet.name, sheet.sha256, checked.rows),
            sandbox=False,
            rounding="down",
            fee_option="deduct",
        )
    return ledger


def _engine_2328io(
    size: int, work_dir: Path, environ: dict[str, str], concurrency: int, rate: float
) -> Engine:
    """An engine over a planned ledger of ``size`` rows, sending to the 2328.io emulation."""
    from batchpay.config import load_settings
    from batchpay.providers import open_provider
    from batchpay.send import Engine

    return Engine(
        ledger=_planned_ledger(size, "2328io", work_dir),
        provider=open_provider("2328io", load_settings(environ=environ)),
        batch="bench",
        concurrency=concurrency,
        rate=rate,
    )


def send(size: int, timed: Timed) -> dict[str, float]:
    import tempfile

    from batchpay.emulator import Emulator
    from batchpay.emulator.server import EmulatorServer

    work_dir = Path(tempfile.mkdtemp())
    server = EmulatorServer(Emulator())
    server.start()
    try:
        engine = _engine_2328io(size, work_dir, server.emulator.env(server.url), 8, 0)
        result = timed(engine.send_planned)
        assert server.emulator["2328io"].count() == size
        return result | {"requests": engine.requests}
    finally:
        server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)


def send_bare(size: int, timed: Timed) -> dict[str, float]:
    """The same signed requests from a bare httpx client at the same concurrency."""
    import httpx

    from batchpay.config import load_settings
    from batchpay.emulator import Emulator
    from batchpay.emulator.server import EmulatorServer
    from batchpay.ingest import read_sheet
    from batchpay.plan import KeyForm, attempt_key, row_key
    from batchpay.providers import open_provider
    from batchpay.providers.base import PayoutRequest
    from batchpay.providers.pay2328 import Pay2328Adapter
    from batchpay.providers.wire import dumps
    from batchpay.validate import validate_sheet

    server = EmulatorServer(Emulator())
    server.start()
    try:
        adapter = open_provider("2328io", load_settings(environ=server.emulator.env(server.url)))
        assert isinstance(adapter, Pay2328Adapter)
        rows = validate_sheet(
            read_sheet(csv_sheet(DATA / f"sheet-{size}.csv", size)), "2328io"
        ).rows
        bodies = []
        for r in rows:
            key = attempt_key(row_key("bench", r.reference), 1, KeyForm.UUID)
            request = PayoutRequest(
                "r", 1, key, r.reference, r.amount, r.currency, r.network, r.address
            )
            bodies.append(dumps(adapter.payload(request)).encode())
        project = server.emulator.keys.project_2328
        url = f"{server.url}/2328io/api/v1/payout"
        local = threading.local()

        def post(body: bytes) -> None:
            client = getattr(local, "client", None) or httpx.Client()
            local.client = client
            client.post(
                url,
                content=body,
                headers={
                    "project": project,
                    "sign": adapter.sign(body),
                    "content-type": "application/json",
                    "user-agent": "bench",
                },
            ).raise_for_status()

        def work() -> None:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(post, bodies))

        result = timed(work)
        assert server.emulator["2328io"].count() == size
        return result
    finally:
        server.stop()


def rate(size: int, timed: Timed) -> dict[str, float]:
    import tempfile

    from batchpay.emulator import Emulator
    from batchpay.emulator.pay2328 import Emu2328
    from batchpay.emulator.server import EmulatorServer

    work_dir = Path(tempfile.mkdtemp())
    emulator = Emulator()
    emu = emulator["2328io"]
    assert isinstance(emu, Emu2328)
    emu.rate_limit = 10
    server = EmulatorServer(emulator)
    server.start()
    try:
        engine = _engine_2328io(size, work_dir, emulator.env(server.url), 4, 10)
        stamps: list[float] = []
        original = emu.handle

        def recording(request: EmuRequest) -> EmuResponse:
            stamps.append(emu.clock())
            return original(request)

        emu.handle = recording  # type: ignore[method-assign]  # this instance only
        result = timed(engine.send_planned)
        achieved = (len(stamps) - 1) / (max(stamps) - min(stamps))
        return result | {"achieved": achieved, "limited": float(emu.limited)}
    finally:
        server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)


# -- resume and report --------------------------------------------------------------------


def _paths(size: int) -> tuple[Path, Settings]:
    """The sheet and settings of the paid sandbox batch of ``size`` rows, in .data."""
    from batchpay.config import load_settings

    home = DATA / f"paid-{size}"
    settings = load_settings(
        {"ledger": home / "l.sqlite", "report_dir": home / "reports", "concurrency": 8},
        environ={},
        cwd=home,
    )
    return csv_sheet(DATA / f"sheet-{size}.csv", size), settings


def _completed_batch(size: int) -> tuple[Path, Settings]:
    """A fully paid sandbox batch of ``size`` rows, built once and kept in .data. It is paid
    in a process of its own: paying 100k rows peaks far above a resume, and a figure reports
    its process's peak (a build in the measured process once showed as resume's 767 MiB)."""
    if not (DATA / f"paid-{size}" / "done").exists():
        code = f"from benchmarks.cases import _build; _build({size})"
        subprocess.run([sys.executable, "-c", code], check=True, cwd=DATA.parent.parent)
    return _paths(size)


def _build(size: int) -> None:
    """Pay the batch of ``size`` rows; mark it done."""
    from batchpay import api

    sheet, settings = _paths(size)
    home = DATA / f"paid-{size}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    assert api.run(sheet, "sandbox", "bench", settings=settings).exit_code == 0
    (home / "done").write_text("ok")


def resume(size: int, timed: Timed) -> dict[str, float]:
    from batchpay import api

    sheet, settings = _completed_batch(size)
    outcome: dict[str, float] = {}

    def work() -> None:
        result = api.run(sheet, "sandbox", "bench", settings=settings)
        outcome["requests"] = result.requests_sent
        assert result.requests_sent == 0 and result.exit_code == 0

    return timed(work) | outcome


def resume_validate(size: int, timed: Timed) -> dict[str, float]:
    from batchpay import api

    sheet, settings = _completed_batch(size)
    return timed(lambda: api.validate(sheet, "sandbox", settings=settings))


def report(size: int, timed: Timed) -> dict[str, float]:
    from batchpay import api

    _, settings = _completed_batch(size)
    return timed(lambda: api.report("bench", settings=settings))
