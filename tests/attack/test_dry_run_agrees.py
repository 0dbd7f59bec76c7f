"""The dry run refuses exactly what the run refuses: a seeded walk over generated sheets
(look-alike references, re-spelled addresses, repeats, fees that eat the amount, batches run
twice) on one ledger, each sheet tried dry and then for real."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from batchpay import api
from batchpay.config import Settings
from batchpay.errors import BatchpayError
from batchpay.problems import Severity
from batchpay.validate.options import SheetOptions
from tests.conftest import ETH, HEADER, TRON

TON = [
    "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB",
    "UQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi41-E",
    "0:2CF55953E92EFBEADAB7BA725C3F93A0B23F842CBBA72D7B8E6F510A70E422E3",
]
REFERENCES = ["E-1", "E-2", "E-3", "E-\u04301", "E-1\u200b", "e-1", "E-4"]
AMOUNTS = ["10", "10.00", "1", "0.5", "25", "3.05", "1.0000001"]


def _row(rng: random.Random) -> str:
    ref, amount, kind = rng.choice(REFERENCES), rng.choice(AMOUNTS), rng.random()
    if kind < 0.45:
        return f"{ref},A,{amount},USDT,TRON,{rng.choice(TRON)},,x"
    if kind < 0.65:
        address = rng.choice([ETH, ETH.lower()])
        return f"{ref},A,{amount},USDC,ETHEREUM,{address},,x"
    if kind < 0.85:
        return f"{ref},A,{amount},TON,TON,{rng.choice(TON)},{rng.choice(['m', ''])},x"
    tag = rng.choice(["1", "01", "", "4294967296"])
    return f"{ref},A,{amount},XRP,XRP,rG1QQv2nh2gr7RCZ1P8YYcBUKCCN633jCn,{tag},x"


def _outcome(
    sheet: Path, batch: str, settings: Settings, options: SheetOptions, *, dry_run: bool
) -> tuple[str, list[str]]:
    try:
        api.run(sheet, "sandbox", batch, settings=settings, dry_run=dry_run, options=options)
    except BatchpayError as exc:
        found = getattr(exc, "problems", None) or []
        return type(exc).__name__, sorted({p.code for p in found if p.severity is Severity.ERROR})
    return "ok", []


@pytest.mark.parametrize("seed", range(6))
def test_the_dry_run_refuses_what_the_run_refuses(
    workdir: Path, settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    sheet = workdir / "s.csv"
    for _ in range(10):
        lines = [_row(rng) for _ in range(rng.randint(1, 5))]
        sheet.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
        batch = rng.choice(["a", "b", "c"])
        options = SheetOptions(allow_duplicates=rng.random() < 0.2)
        these = dataclasses.replace(settings, fee_option=rng.choice(["deduct", "add"]))
        dry = _outcome(sheet, batch, these, options, dry_run=True)
        assert _outcome(sheet, batch, these, options, dry_run=False) == dry, sheet.read_text()
