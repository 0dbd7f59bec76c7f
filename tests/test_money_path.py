"""The whole money path with decimal's FloatOperation trap on: a float mixed into any amount,
anywhere from the cell to the report, raises instead of passing silently."""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchpay import api
from batchpay.config import Settings
from batchpay.jsonout import run_json
from tests.conftest import ROOT, SAMPLES


@pytest.fixture
def float_trap() -> Iterator[None]:
    saved_default = decimal.DefaultContext.traps[decimal.FloatOperation]
    saved_current = decimal.getcontext().traps[decimal.FloatOperation]
    decimal.DefaultContext.traps[decimal.FloatOperation] = True  # worker threads inherit this
    decimal.getcontext().traps[decimal.FloatOperation] = True
    try:
        yield
    finally:
        decimal.DefaultContext.traps[decimal.FloatOperation] = saved_default
        decimal.getcontext().traps[decimal.FloatOperation] = saved_current


def test_the_trap_is_really_on(float_trap: None) -> None:
    with pytest.raises(decimal.FloatOperation):
        decimal.Decimal(0.1)  # noqa: RUF032
    with pytest.raises(decimal.FloatOperation):
        _ = decimal.Decimal("1") < 0.5


@pytest.mark.parametrize("sample", ["payroll-2026-11.csv", "payroll-2026-11.xlsx"])
def test_money_path_runs_with_floats_trapped(
    float_trap: None, settings: Settings, sample: str
) -> None:
    checked = api.validate(SAMPLES / sample, "sandbox", settings=settings)
    assert checked.ok
    planned = api.run(SAMPLES / sample, "sandbox", "trap", settings=settings, dry_run=True)
    assert run_json(planned)["totals"]["USDT"]["to_send"] == "9850.623456"
    result = api.run(SAMPLES / sample, "sandbox", "trap", settings=settings)
    assert result.exit_code == 0
    assert result.report is not None and result.report.identity_holds
    assert result.report.totals_json()["USDT"]["sent"] == "9850.623456"
    assert api.status("trap", settings=settings).exit_code == 0
    assert len(api.report("trap", settings=settings)) == 5


def test_no_float_conversion_in_the_package_unless_marked() -> None:
    """Every float in batchpay is a rate or a duration, marked so a reader can check it."""
    pattern = re.compile(r"\bfloat\(|astype\(float|dtype=float|: float\b|-> float\b")
    offenders = []
    for path in sorted((ROOT / "batchpay").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line) and "# float-ok" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_settings_fixture_is_isolated(settings: Settings, workdir: Path) -> None:
    assert settings.ledger.parent == workdir
