"""Each provider, a 20-row sheet, over real loopback HTTP against ``batchpay sandbox``'s server:
every request signed as the emulation demands, every row paid once and completed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batchpay import api
from batchpay.config import load_settings
from batchpay.emulator import Emulator, EmuRequest
from batchpay.emulator.pay2328 import Emu2328
from batchpay.emulator.server import EmulatorServer
from batchpay.jsonout import run_json
from tests.conftest import TRON

CRYPTO_HEADER = "reference,name,amount,currency,network,address,description"
FIAT_HEADER = (
    "reference,amount,currency,country_code,payout_currency,payment_method,"
    "recipient_name,recipient.account_number,recipient.ifsc"
)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    srv = EmulatorServer(Emulator())
    srv.start()
    yield srv
    srv.stop()


def _sheet(path: Path, provider: str, rows: int = 20) -> Path:
    if provider == "pontis":
        lines = [FIAT_HEADER] + [
            f"P-{i:03d},{100 + i}.00,USDT,IN,INR,imps,Person {i},00{i:010d},HDFC0000{i:03d}"
            for i in range(rows)
        ]
    else:
        lines = [CRYPTO_HEADER] + [
            f"E-{i:03d},Person {i},{10 + i}.{i % 100:02d}5,USDT,TRON,{TRON[i % len(TRON)]},salary"
            for i in range(rows)
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("provider", ["oxapay", "thedex", "pontis", "2328io"])
def test_twenty_rows_end_to_end_over_loopback(
    server: EmulatorServer, tmp_path: Path, provider: str
) -> None:
    emulator = server.emulator
    env = emulator.env(server.url)
    settings = load_settings(
        {
            "ledger": tmp_path / "l.sqlite",
            "report_dir": tmp_path / "r",
            "concurrency": 4,
            "rate_limits": {provider: 500},
        },
        environ=env,
        cwd=tmp_path,
    )
    sheet = _sheet(tmp_path / "s.csv", provider)

    result = api.run(sheet, provider, "month-1", settings=settings)
    assert result.exit_code == 0, run_json(result)
    assert result.report is not None
    accepted = {k: v for k, v in result.report.counts.items() if v}
    assert sum(accepted.values()) == 20 and set(accepted) <= {"pending", "processing"}
    assert emulator[provider].count() == 20

    status = api.status("month-1", settings=settings)
    assert status.report is not None
    assert {k: v for k, v in status.report.counts.items() if v} == {"completed": 20}
    assert status.report.identity_holds
    assert all(r.provider_ref for r in status.report.rows)

    again = api.run(sheet, provider, "month-1", settings=settings)
    assert again.requests_sent == 0 and emulator[provider].count() == 20
    creates = [p for m, p in emulator[provider].requests if m == "POST"]
    assert len(creates) >= 20


def test_cli_against_a_separate_batchpay_sandbox_process(tmp_path: Path) -> None:
    """The user's path: `batchpay sandbox` in one terminal, `batchpay run` in another."""
    import json
    import os
    import subprocess
    import sys

    server = subprocess.Popen(
        [sys.executable, "-m", "batchpay", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        # two lines of text, then one export per variable of the emulation's environment
        lines = [server.stdout.readline() for _ in range(2 + len(Emulator().env()))]
        exports = dict(
            line.removeprefix("export ").strip().split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHPAY_")} | exports
        sheet = _sheet(tmp_path / "s.csv", "2328io")
        cli = [sys.executable, "-m", "batchpay"]
        run = subprocess.run(
            [*cli, "run", str(sheet), "--provider", "2328io", "--batch", "b", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["counts"] == {"pending": 20}
        status = subprocess.run(
            [*cli, "status", "--batch", "b", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["counts"] == {"completed": 20}
        assert exports["BATCHPAY_2328IO_PAYOUT_API_KEY"] not in run.stdout + run.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


class VirtualTime:
    """One clock for batchpay's rate limiter and the emulation, moved only by the limiter's
    sleeps: a request reaches the emulation at exactly the slot it was given, whatever the
    load on the machine (real time would add scheduling delays, and with them stray 429s)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # float-ok: unix seconds

    def clock(self) -> float:  # float-ok
        return self.now

    def sleep(self, seconds: float) -> None:  # float-ok
        self.now += seconds


def test_2328io_emulation_enforces_its_rate_limit_and_batchpay_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import batchpay.send.core
    from batchpay.send.ratelimit import RateLimiter

    virtual = VirtualTime()
    monkeypatch.setattr(
        batchpay.send.core,
        "RateLimiter",
        lambda rate, sleep: RateLimiter(rate, clock=virtual.clock, sleep=virtual.sleep),
    )
    emulator = Emulator(clock=virtual.clock)
    emu_2328 = emulator["2328io"]
    assert isinstance(emu_2328, Emu2328)
    emu_2328.rate_limit = 10
    settings = load_settings(
        {"ledger": tmp_path / "l.sqlite", "report_dir": tmp_path / "r", "concurrency": 1},
        environ=emulator.env(),
        cwd=tmp_path,
    )
    result = api.run(
        _sheet(tmp_path / "s.csv", "2328io", 15),
        "2328io",
        "b",
        settings=settings,
        transport=emulator.transport(),
    )
    assert result.exit_code == 0
    requests = len(emulator["2328io"].requests)
    assert requests >= 15
    assert virtual.now - 1_800_000_000.0 >= (requests - 1) / 10  # the limiter spaced them
    assert emu_2328.limited == 0
    # the control: the same emulation, hit without spacing, refuses the 11th in a second
    virtual.sleep(1.0)
    for _ in range(11):
        emulator.handle(EmuRequest("GET", "/2328io/api/v1/payout/x", {}))
    assert emu_2328.limited == 1
