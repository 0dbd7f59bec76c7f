"""Kill a real batchpay process (SIGKILL) at every step of a 25-row run, for every adapter,
resume until settled, and check: at most one payout per row, every payout known to the
ledger, every amount exact."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from batchpay import api
from batchpay.config import load_settings
from batchpay.emulator.keys import EmulatorKeys
from tests.safety.helpers import check_invariants, driver, emulation, write_sheet

ROWS = 25
SLOW = bool(os.environ.get("BATCHPAY_SLOW"))
PG_PROVIDERS = ("oxapay", "pontis")  # a key field, and a provider that needs lookups
# 25 rows at concurrency 1: two send windows (16 + 9), so two intent commits
POINTS = [
    "before_intent:1",
    "before_intent:2",
    "after_intent:1",
    "after_intent:2",
    "after_request:1",
    "after_request:13",
    "after_request:25",
    "after_outcome:1",
    "after_outcome:12",
    "after_outcome:25",
]


def resume(tmp_path: Path, ledger_url: str, provider: str, url: str) -> None:
    settings = load_settings(
        {
            "ledger": ledger_url,
            "report_dir": tmp_path / "r",
            "rate_limits": {provider: 0},
            "grace_seconds": {provider: 0},
        },
        environ=EmulatorKeys().env(url),
        cwd=tmp_path,
    )
    for _ in range(3):
        result = api.run(tmp_path / "s.csv", provider, "b", settings=settings)
        if result.report and not any(
            r.status in ("sending", "unknown", "planned") for r in result.report.rows
        ):
            return


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("provider", ["oxapay", "thedex", "pontis", "2328io"])
def test_kill_at_every_step_then_resume(
    tmp_path: Path, ledger_url: str, provider: str, point: str
) -> None:
    if ledger_url.startswith("postgresql") and provider not in PG_PROVIDERS and not SLOW:
        pytest.skip("on PostgreSQL, two providers in the normal run (all: BATCHPAY_SLOW=1)")
    sheet = write_sheet(tmp_path / "s.csv", provider, ROWS)
    with emulation() as server:
        killed = driver(sheet, provider, ledger_url, server.url, "--crash", point)
        assert killed.returncode == -9, (killed.returncode, killed.stderr[-2000:])
        check_invariants(ledger_url, server.emulator, provider, settled=False)
        resume(tmp_path, ledger_url, provider, server.url)
        facts = check_invariants(ledger_url, server.emulator, provider)
    assert facts == {"rows": ROWS, "payouts": ROWS}
