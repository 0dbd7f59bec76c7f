"""Hostile inputs found after the fixes for issues 11 and 12: each asserts the right value."""

from __future__ import annotations

from pathlib import Path

from batchpay import api
from batchpay.config import Settings
from tests.conftest import HEADER, TRON


def _csv(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_an_amount_rounding_to_zero_is_refused_by_validate(
    workdir: Path, settings: Settings
) -> None:
    sheet = _csv(
        workdir / "tiny.csv",
        [f"E-1,A,0.0000001,USDT,TRON,{TRON[0]},,x", f"E-2,B,5,USDT,TRON,{TRON[1]},,x"],
    )
    result = api.validate(sheet, settings=settings)
    codes = [(p.row, p.code) for p in result.problems]
    assert codes == [(2, "amount.not_positive")]
    assert result.rows == 1
