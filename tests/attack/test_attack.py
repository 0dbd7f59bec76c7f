"""Hostile inputs found after the fixes for issues 11 and 12: each asserts the right value."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchpay import api
from batchpay.config import Settings
from batchpay.errors import SheetRejected
from tests.conftest import HEADER, TRON, FixedClock


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


TON_EQ = "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB"
TON_UQ = "UQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi41-E"  # the same account, not bounceable
TON_RAW = "0:2CF55953E92EFBEADAB7BA725C3F93A0B23F842CBBA72D7B8E6F510A70E422E3"


@pytest.mark.parametrize("other", [TON_UQ, TON_RAW])
def test_a_ton_account_in_another_form_is_paid_recently_in_another_batch(
    workdir: Path, settings: Settings, clock: FixedClock, other: str
) -> None:
    first = _csv(workdir / "a.csv", [f"E-1,Ada,10,TON,TON,{TON_EQ},m1,x"])
    api.run(first, "sandbox", "nov-a", settings=settings)
    second = _csv(workdir / "b.csv", [f"E-9,Ada,10,TON,TON,{other},m1,x"])
    for dry_run in (True, False):
        with pytest.raises(SheetRejected) as caught:
            api.run(second, "sandbox", "nov-b", settings=settings, dry_run=dry_run)
        assert [p.code for p in caught.value.problems] == ["payment.paid_recently"]


def test_a_ton_account_in_another_form_repeats_a_payment_of_the_same_batch(
    workdir: Path, settings: Settings
) -> None:
    api.run(
        _csv(workdir / "a.csv", [f"E-1,Ada,10,TON,TON,{TON_EQ},m1,x"]),
        "sandbox",
        "nov",
        settings=settings,
    )
    again = _csv(workdir / "b.csv", [f"E-1b,Ada,10,TON,TON,{TON_RAW},m1,x"])
    with pytest.raises(SheetRejected) as caught:
        api.run(again, "sandbox", "nov", settings=settings)
    assert [(p.row, p.code) for p in caught.value.problems] == [(2, "payment.repeated")]
