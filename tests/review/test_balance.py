"""The balance check before the first payout: an over-budget batch stops with nothing sent
(exit 6); a balance that cannot be read is a warning and the batch goes on."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from batchpay import api
from batchpay.cli import main
from batchpay.config import Settings, load_settings
from batchpay.emulator import Emulator, Fault
from batchpay.errors import BalanceError
from batchpay.ledger import Ledger
from batchpay.providers import sandbox_state_path
from batchpay.providers.sandbox import SandboxBank
from batchpay.send.balance import needs
from batchpay.statuses import RowStatus
from tests.conftest import SAMPLES
from tests.review.helpers import payout, plan_of

Write = Callable[..., Path]
ROWS = [("E-1", "10"), ("E-2", "20"), ("E-3", "30")]  # 60 USDT


def _emulated(workdir: Path, emulator: Emulator, **overrides: Any) -> Settings:
    env = emulator.env()
    return load_settings(
        {"ledger": workdir / "ledger.sqlite", "report_dir": workdir / "reports", **overrides},
        environ=env,
        cwd=workdir,
    )


def _creates(emulator: Emulator, provider: str, path: str) -> int:
    return sum(1 for method, p in emulator[provider].requests if (method, p) == ("POST", path))


def _ledger_rows(settings: Settings, batch: str) -> list[RowStatus]:
    with Ledger(settings.ledger) as ledger:
        return [r.status for r in ledger.rows(batch)]


def test_oxapay_over_budget_sends_nothing(workdir: Path, write_sheet: Write) -> None:
    emulator = Emulator()
    emulator["oxapay"].balances = {"USDT": Decimal("59.99")}
    settings = _emulated(workdir, emulator)
    with pytest.raises(BalanceError) as caught:
        api.run(write_sheet(ROWS), "oxapay", "b", settings=settings, transport=emulator.transport())
    assert caught.value.exit_code == 6
    message = str(caught.value)
    assert "USDT" in message and "needs 60 USDT" in message and "balance is 59.99 USDT" in message
    assert "Nothing was sent" in message
    assert caught.value.shortfalls == {"USDT": (Decimal("60"), Decimal("59.99"))}
    assert _creates(emulator, "oxapay", "/payout") == 0 and emulator["oxapay"].count() == 0
    assert ("GET", "/general/account/balance") in emulator["oxapay"].requests
    assert _ledger_rows(settings, "b") == []  # not even planned: nothing is saved


def test_oxapay_covered_goes_on(workdir: Path, write_sheet: Write) -> None:
    emulator = Emulator()
    emulator["oxapay"].balances = {"USDT": Decimal("60")}
    settings = _emulated(workdir, emulator)
    result = api.run(
        write_sheet(ROWS), "oxapay", "b", settings=settings, transport=emulator.transport()
    )
    assert result.exit_code == 0 and emulator["oxapay"].count() == 3
    assert [p.code for p in result.problems] == []
    seen = emulator["oxapay"].requests
    assert seen.index(("GET", "/general/account/balance")) < seen.index(("POST", "/payout"))


@pytest.mark.parametrize("why", ["no_key", "5xx", "timeout"])
def test_an_unknown_balance_warns_and_goes_on(workdir: Path, write_sheet: Write, why: str) -> None:
    emulator = Emulator()
    emulator["oxapay"].balances = {"USDT": Decimal("1")}  # would stop it, if it were read
    env = emulator.env()
    if why == "no_key":
        del env["BATCHPAY_OXAPAY_GENERAL_API_KEY"]
    elif why == "5xx":
        emulator.faults.add(Fault("oxapay", "5xx_before", op="balance", times=-1))
    else:
        emulator.faults.add(Fault("oxapay", "drop_after", op="balance", times=-1))
    settings = load_settings(
        {"ledger": workdir / "l.sqlite", "report_dir": workdir / "r"}, environ=env, cwd=workdir
    )
    result = api.run(
        write_sheet(ROWS), "oxapay", "b", settings=settings, transport=emulator.transport()
    )
    assert result.exit_code == 0 and emulator["oxapay"].count() == 3
    unknown = [p for p in result.problems if p.code == "balance.unknown"]
    assert len(unknown) == 1 and unknown[0].severity == "warning"
    expected = {
        "no_key": "BATCHPAY_OXAPAY_GENERAL_API_KEY is not set",
        "5xx": "answered HTTP 500",
        "timeout": "did not finish (read_timeout)",
    }[why]
    assert expected in unknown[0].message


def test_the_check_can_be_turned_off(workdir: Path, write_sheet: Write) -> None:
    emulator = Emulator()
    emulator["oxapay"].balances = {"USDT": Decimal("1")}
    settings = _emulated(workdir, emulator, balance={"oxapay": {"check": False}})
    result = api.run(
        write_sheet(ROWS), "oxapay", "b", settings=settings, transport=emulator.transport()
    )
    assert result.exit_code == 0 and emulator["oxapay"].count() == 3
    assert ("GET", "/general/account/balance") not in emulator["oxapay"].requests


def test_2328io_balance_when_turned_on_counts_fees_added_on_top(
    workdir: Path, write_sheet: Write
) -> None:
    emulator = Emulator()
    emulator["2328io"].balances = {"USDT": Decimal("60")}  # the amounts, not the fees on top
    settings = _emulated(workdir, emulator, balance={"2328io": {"check": True}}, fee_option="add")
    with pytest.raises(BalanceError) as caught:
        api.run(write_sheet(ROWS), "2328io", "b", settings=settings, transport=emulator.transport())
    need, held = caught.value.shortfalls["USDT"]
    assert held == Decimal("60") and need > Decimal("60")  # 60 + three quoted fees
    assert _creates(emulator, "2328io", "/v1/payout") == 0
    deduct = _emulated(workdir, emulator, balance={"2328io": {"check": True}})
    result = api.run(
        write_sheet(ROWS), "2328io", "b2", settings=deduct, transport=emulator.transport()
    )
    assert result.exit_code == 0 and emulator["2328io"].count() == 3


def _sandbox_settings(workdir: Path, balance: str) -> Settings:
    return load_settings(
        {"ledger": workdir / "ledger.sqlite", "report_dir": workdir / "reports"},
        environ={"BATCHPAY_SANDBOX_BALANCE": balance},
        cwd=workdir,
    )


def test_sandbox_balance_and_retry(workdir: Path, write_sheet: Write) -> None:
    sheet = write_sheet([("E-1", "10"), ("E-2", "20.02")])  # .02: fails for good
    first = api.run(sheet, "sandbox", "b", settings=_sandbox_settings(workdir, "USDT=40"))
    assert first.exit_code == 3
    bank = SandboxBank(sandbox_state_path(workdir / "ledger.sqlite"))
    try:
        assert bank.count() == 2
        # 40 - 10 paid = 30 left: the retry of 20.02 fits; with 25 (15 left) it does not
        with pytest.raises(BalanceError) as caught:
            api.retry("b", settings=_sandbox_settings(workdir, "USDT=25"))
        assert "needs 20.02 USDT" in str(caught.value) and "balance is 15 USDT" in str(caught.value)
        assert bank.count() == 2
    finally:
        bank.close()
    with Ledger(workdir / "ledger.sqlite") as ledger:
        assert sorted((r.reference, r.attempt_no) for r in ledger.rows("b")) == [
            ("E-1", 1),
            ("E-2", 1),
        ]


def test_needs_per_currency() -> None:
    plan = plan_of(
        "b",
        [
            payout(2, "A", "10"),
            payout(3, "B", "20"),
            payout(4, "C", "0.5", currency="BTC", network="BITCOIN", address="bc1qxyz"),
        ],
    )
    found = needs(plan.items, {}, "deduct")
    assert {c: (n.rows, n.amount, n.fees, n.fees_unknown) for c, n in found.items()} == {
        "BTC": (1, Decimal("0.5"), Decimal(0), False),
        "USDT": (2, Decimal("30"), Decimal(0), False),
    }
    assert needs(plan.items, {}, "add")["USDT"].fees_unknown


def test_cli_exit_6_names_currency_need_and_balance(
    workdir: Path, write_sheet: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHPAY_SANDBOX_BALANCE", "USDT=50")
    sheet = write_sheet(ROWS)
    result = CliRunner().invoke(
        main, ["run", str(sheet), "--provider", "sandbox", "--batch", "b"], catch_exceptions=False
    )
    assert result.exit_code == 6
    assert "needs 60 USDT" in result.stderr and "balance is 50 USDT" in result.stderr
    assert _bank_count(workdir) == 0


def _bank_count(workdir: Path) -> int:
    bank = SandboxBank(sandbox_state_path(workdir / "batchpay-ledger.sqlite"))
    try:
        return bank.count()
    finally:
        bank.close()


def test_the_sample_sheet_pays_through_the_emulated_oxapay(workdir: Path) -> None:
    # README, "Trying the real adapters locally": the sample against `batchpay sandbox`'s
    # default accounts is covered in every currency it holds (SOL, TON and XRP included)
    emulator = Emulator()
    settings = _emulated(workdir, emulator)
    result = api.run(
        SAMPLES / "payroll-2026-11.csv",
        "oxapay",
        "try-1",
        settings=settings,
        transport=emulator.transport(),
    )
    assert result.exit_code == 0 and emulator["oxapay"].count() == 10
    assert ("GET", "/general/account/balance") in emulator["oxapay"].requests


@pytest.mark.parametrize(
    "data",
    [
        {"USDT": "NaN"},
        {"USDT": "Infinity"},
        {"USDT": "-5"},
        {"USDT": -5},
        {"USDT": None},
        {"USDT": [100]},
        {"USDT": True},
        {"USDT": "1O0"},
        ["USDT", "100"],
        "100",
        None,
    ],
)
def test_a_garbage_balance_is_not_known_never_enough(data: object) -> None:
    from batchpay.providers.balances import oxapay_balances
    from batchpay.providers.boundary import Reply

    found = oxapay_balances(Reply(200, b"", {"status": 200, "data": data}, None, {}))
    assert found.amounts is None and found.of("USDT") is None and found.reason


def test_a_balance_exactly_equal_to_the_need_passes() -> None:
    from batchpay.providers.balances import oxapay_balances
    from batchpay.providers.boundary import Reply
    from batchpay.send.balance import BalanceCheck

    held = oxapay_balances(Reply(200, b"", {"status": 200, "data": {"usdt": "60.000"}}, None, {}))
    wanted = needs(plan_of("b", [payout(2, "A", "10"), payout(3, "B", "50")]).items, {}, "deduct")
    assert BalanceCheck(wanted, held, True).short() == []
    less = oxapay_balances(Reply(200, b"", {"status": 200, "data": {"USDT": "59.999"}}, None, {}))
    assert [h for _, h in BalanceCheck(wanted, less, True).short()] == [Decimal("59.999")]
