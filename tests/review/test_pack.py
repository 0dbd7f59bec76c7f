"""batchpay review: the pack's files and JSON, the changes it shows, and that it refuses
whatever the run refuses, with the same exit code."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from batchpay import api
from batchpay.cli import main
from batchpay.config import Settings, load_settings
from batchpay.emulator import Emulator
from batchpay.ledger import Ledger
from batchpay.planning import plan_sheet
from batchpay.providers import sandbox_state_path
from batchpay.review.digest import approval_digest
from tests.conftest import SAMPLES, TRON

SAMPLE = SAMPLES / "payroll-2026-11.csv"
Write = Callable[..., Path]
HEADER = "reference,name,amount,currency,network,address,memo,description"


def _cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _sheet(write: Write, name: str, rows: list[tuple[str, str, str]]) -> Path:
    path = write([], name=name)
    lines = [f"{r},Person {r},{a},USDT,TRON,{addr},,pay" for r, a, addr in rows]
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_review_writes_both_files_and_prints_the_digest(workdir: Path) -> None:
    result = _cli("review", SAMPLE, "--provider", "sandbox", "--batch", "payroll-2026-11")
    assert result.exit_code == 0, result.output
    folder = workdir / "reports" / "payroll-2026-11"
    assert sorted(p.name for p in folder.iterdir()) == ["review.html", "review.json"]
    data = json.loads((folder / "review.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"[0-9a-f]{64}", data["digest"])
    assert f"digest: {data['digest']}" in result.stdout
    assert "SANDBOX" in result.stdout
    # nothing was sent and no ledger row written: no ledger, no sandbox state
    assert not (workdir / "batchpay-ledger.sqlite").exists()
    assert not sandbox_state_path(workdir / "batchpay-ledger.sqlite").exists()
    html = (folder / "review.html").read_text(encoding="utf-8")
    assert data["digest"] in html and "SANDBOX" in html
    assert "<script" not in html and not re.search(r"(src|href)=\"?https?:", html)


def test_review_json_fields(workdir: Path) -> None:
    result = _cli("review", SAMPLE, "--provider", "sandbox", "--batch", "payroll-2026-11", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("batch", "provider", "digest", "totals", "networks", "changes"):
        assert key in data
    assert data["batch"] == "payroll-2026-11" and data["provider"] == "sandbox"
    assert data["live"] is False and data["must_acknowledge"] == []
    assert data["changes"] == [] and data["compared_with"] is None
    # 2500 + 2750.50 + 3100 + 1500.1234567 rounded down to 1500.123456
    assert data["totals"]["USDT"]["to_send"] == "9850.623456"
    assert data["totals"]["USDT"]["fees"] == "4"  # the sandbox quotes 1 USDT a payout
    networks = {(n["currency"], n["network"]): n for n in data["networks"]}
    assert sum(n["rows"] for n in data["networks"]) == 10
    assert networks[("USDT", "TRON")]["to_send"] == "6750.623456"
    assert networks[("USDT", "TRON")]["rows"] == 3 and networks[("USDT", "TRON")]["fees"] == "3"
    assert networks[("USDT", "BSC")]["to_send"] == "3100.00"
    assert networks[("USDC", "ETHEREUM")]["to_send"] == "1980.25"
    assert networks[("USDC", "POLYGON")]["to_send"] == "2200.75"
    assert [r["reference"] for r in data["roundings"]] == ["E-0006"]
    assert data["roundings"][0]["delta"] == "-0.0000007"
    assert data["balances"]["USDT"]["covered"] is True  # the sandbox holds plenty
    # the digest is the plan's, as approval_digest computes it
    plan, _ = plan_sheet(SAMPLE, None, "sandbox", "payroll-2026-11", _settings(workdir), _options())
    assert data["digest"] == approval_digest(plan, fee_option="deduct")
    # README: `review --json` prints the same object as review.json (its files too)
    written = workdir / "reports" / "payroll-2026-11" / "review.json"
    assert json.loads(written.read_text(encoding="utf-8")) == data
    assert [Path(f).name for f in data["files"]] == ["review.html", "review.json"]


def _settings(workdir: Path, **overrides: Any) -> Settings:
    return load_settings(overrides, environ={}, cwd=workdir)


def _options() -> Any:
    from batchpay.validate import SheetOptions

    return SheetOptions()


def test_the_fee_option_enters_the_digest(workdir: Path) -> None:
    deduct = _cli("review", SAMPLE, "--provider", "sandbox", "--batch", "b", "--json")
    add = _cli(
        "review", SAMPLE, "--provider", "sandbox", "--batch", "b", "--json", "--fee-option", "add"
    )
    assert json.loads(deduct.stdout)["digest"] != json.loads(add.stdout)["digest"]
    assert json.loads(add.stdout)["fee_option"] == "add"


def test_a_changed_destination_is_shown_and_must_be_acknowledged(
    workdir: Path, write_sheet: Write
) -> None:
    october = _sheet(write_sheet, "oct.csv", [("A", "100", TRON[0]), ("B", "200", TRON[1])])
    assert _cli("run", october, "--provider", "sandbox", "--batch", "2026-10").exit_code == 0
    november = _sheet(write_sheet, "nov.csv", [("A", "110", TRON[2]), ("C", "300", TRON[3])])
    result = _cli("review", november, "--provider", "sandbox", "--batch", "2026-11", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["compared_with"] == "2026-10"
    assert [(c["reference"], c["kind"], c["acknowledge"]) for c in data["changes"]] == [
        ("A", "destination", True),
        ("C", "new", True),
        ("B", "missing", False),
    ]
    assert data["changes"][0]["before"] == f"TRON {TRON[0]}"
    assert data["changes"][0]["after"] == f"TRON {TRON[2]}"
    assert data["must_acknowledge"] == ["A", "C"]
    assert {p["reference"]: p["change"] for p in data["payouts"]} == {
        "A": "destination",
        "C": "new",
    }
    html = (workdir / "reports" / "2026-11" / "review.html").read_text(encoding="utf-8")
    assert "Destination changed" in html and "must be acknowledged" in html
    with Ledger(workdir / "batchpay-ledger.sqlite") as ledger:
        assert ledger.batch("2026-11") is None  # the review wrote no ledger row
    plain = _cli("review", november, "--provider", "sandbox", "--batch", "2026-11")
    assert "must acknowledge: A, C" in plain.stdout


def _same_exit(*args: str | Path) -> tuple[int, int]:
    rest = [str(a) for a in args[1:]]
    reviewed = _cli("review", args[0], *rest)
    ran = _cli("run", args[0], *rest)
    return reviewed.exit_code, ran.exit_code


def test_review_refuses_what_run_refuses(workdir: Path, write_sheet: Write) -> None:
    bad = write_sheet([("A", "1E+05")], name="bad.csv")
    assert _same_exit(bad, "--provider", "sandbox", "--batch", "x") == (1, 1)
    paid = _sheet(write_sheet, "paid.csv", [("A", "100", TRON[0])])
    assert _cli("run", paid, "--provider", "sandbox", "--batch", "first").exit_code == 0
    # the same payment under a second batch id: paid recently, refused by both
    assert _same_exit(paid, "--provider", "sandbox", "--batch", "second") == (1, 1)
    # a row already sent, changed by one cent
    cent = _sheet(write_sheet, "cent.csv", [("A", "100.01", TRON[0])])
    reviewed = _cli("review", cent, "--provider", "sandbox", "--batch", "first", "--json")
    assert reviewed.exit_code == 1
    assert [i["code"] for i in json.loads(reviewed.stdout)["issues"]] == ["plan.changed_after_send"]
    # another provider for a batch the ledger holds: a usage error for both
    assert _same_exit(paid, "--provider", "oxapay", "--batch", "first") == (2, 2)


def test_a_short_balance_shows_and_exits_6(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCHPAY_SANDBOX_BALANCE", "USDT=100,USDC=5000")
    result = _cli("review", SAMPLE, "--provider", "sandbox", "--batch", "b", "--json")
    assert result.exit_code == 6
    data = json.loads(result.stdout)
    assert data["balances"]["USDT"] == {
        "rows": 4,
        "to_send": "9850.623456",
        "fees_on_top": "0",
        "need": "9850.623456",
        "fees_unknown": False,
        "balance": "100",
        "covered": False,
    }
    assert data["balances"]["USDC"]["covered"] is True
    assert _cli("run", SAMPLE, "--provider", "sandbox", "--batch", "b").exit_code == 6


@pytest.fixture
def emulated(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    from batchpay.emulator.server import EmulatorServer

    server = EmulatorServer(Emulator())
    server.start()
    for name, value in server.emulator.env(server.url).items():
        monkeypatch.setenv(name, value)
    try:
        yield server.emulator
    finally:
        server.stop()


def test_a_live_review_says_live_and_shows_the_balance(
    emulated: Emulator, write_sheet: Write, workdir: Path
) -> None:
    emulated["oxapay"].balances = {"USDT": Decimal("1000")}
    sheet = _sheet(write_sheet, "s.csv", [("A", "100", TRON[0]), ("B", "50", TRON[1])])
    result = _cli("review", sheet, "--provider", "oxapay", "--batch", "b", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["live"] is True
    assert data["balances"]["USDT"]["balance"] == "1000"
    assert data["balances"]["USDT"]["need"] == "150"
    assert emulated["oxapay"].count() == 0  # nothing sent
    html = (workdir / "reports" / "b" / "review.html").read_text(encoding="utf-8")
    assert "LIVE" in html and "SANDBOX" not in html


def test_a_bank_payout_shows_currency_method_and_account(workdir: Path) -> None:
    from batchpay.review.pack import pack_json

    sheet = workdir / "fiat.csv"
    sheet.write_text(
        "reference,amount,currency,country_code,payout_currency,payment_method,recipient_name,"
        "recipient.account_number,recipient.ifsc\n"
        "P-1,100.00,USDT,IN,INR,imps,Person 1,0012345678,HDFC0000001\n",
        encoding="utf-8",
    )
    emulator = Emulator()
    settings = load_settings({"ledger": workdir / "l.sqlite"}, environ=emulator.env(), cwd=workdir)
    pack = api.review(sheet, "pontis", "b", settings=settings, transport=emulator.transport())
    data = pack_json(pack)
    assert data["live"] is True and data["provider"] == "pontis"
    assert (
        data["payouts"][0]["destination"] == "INR imps: account_number=0012345678, ifsc=HDFC0000001"
    )
    assert data["balances"]["USDT"]["balance"] is None  # pontis: no balance call checked
    assert emulator["pontis"].count() == 0
