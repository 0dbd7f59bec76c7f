from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from batchpay.config import Settings, load_settings
from tests.catalogue_check import (  # noqa: F401  (autouse: every Problem meets the catalogue)
    _problems_catalogued,
    _problems_checked_against_catalogue,
)
from tests.pg import Cluster, server_binaries

# No per-example deadline: on a loaded machine a slow example is not a failing one.
hypothesis_settings.register_profile("batchpay", deadline=None)
hypothesis_settings.load_profile("batchpay")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

# Valid mainnet addresses from public test vectors (EIP-55, TronWeb, BIP-173 ...).
TRON = [
    "TFEkshkSXo8yMe8vcA6P77XmiLfstNWHyT",
    "TNDzfERDpxLDS2w1q6yaFC7pzqaSQ3Bg3r",
    "TLfuw4tRywtxCusvTudbjf7PbcXjfe7qrw",
    "TPJNfTfBunWWqME2Povh6thCffaUDumkXV",
]
ETH = "0xE37c0D48d68da5c5b14E5c1a9f1CFE802776D9FF"

HEADER = "reference,name,amount,currency,network,address,memo,description"


def sheet_text(rows: list[tuple[str, str]], header: str = HEADER) -> str:
    """CSV text for (reference, amount) USDT-on-TRON rows."""
    lines = [header]
    for i, (ref, amount) in enumerate(rows):
        lines.append(f"{ref},Person {i},{amount},USDT,TRON,{TRON[i % len(TRON)]},,pay")
    return "\n".join(lines) + "\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("BATCHPAY_"):
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def settings(workdir: Path) -> Settings:
    return load_settings(
        {"ledger": workdir / "ledger.sqlite", "report_dir": workdir / "reports"},
        environ={},
        cwd=workdir,
    )


@pytest.fixture
def write_sheet(workdir: Path) -> Callable[..., Path]:
    def write(rows: list[tuple[str, str]], name: str = "sheet.csv", header: str = HEADER) -> Path:
        path = workdir / name
        path.write_text(sheet_text(rows, header), encoding="utf-8")
        return path

    return write


class FixedClock:
    """One second later at every call; safe to call from the engine's worker threads, which
    stamp each request of an attempt."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            self.now += dt.timedelta(seconds=1)
            return self.now


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    yield FixedClock()


# -- both ledger backends -------------------------------------------------------------------
# ``ledger_url`` runs a test once on a SQLite file and once on a fresh PostgreSQL database of
# a throwaway cluster (tests/pg.py), started once per session when a test first asks for it.
# Without the server binaries the PostgreSQL half is skipped; with CI=1 that skip fails.

PG_SKIP = "PostgreSQL server binaries are not installed"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip(PG_SKIP)
    cluster = Cluster(binaries)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a test's ledger lives: a SQLite file path, or a postgresql:// URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "l.sqlite")
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database()
    try:
        yield url
    finally:
        cluster.drop(url)


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh PostgreSQL ledger database, for the tests of several workers on one batch."""
    url = pg_cluster.new_database()
    try:
        yield url
    finally:
        pg_cluster.drop(url)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if os.environ.get("CI") == "1" and report.skipped and PG_SKIP in str(report.longrepr):
        report.outcome = "failed"  # in CI, the PostgreSQL half of the suite must run
    return report
