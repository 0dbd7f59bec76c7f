"""The run and the dry run check the same things before sending, and the run claims its rows
atomically: the attacks of issues 11 (1c, 1d) and 12 (3a-3d)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from batchpay import api
from batchpay.cli import main
from batchpay.config import Settings, load_settings
from batchpay.emulator import Emulator
from batchpay.emulator.pay2328 import NETWORKS as EMU_2328_NETWORKS
from batchpay.emulator.thedex import SCALES as EMU_THEDEX_PAYCURRENCIES
from batchpay.errors import SheetRejected
from batchpay.keys import KeyForm, attempt_key
from batchpay.ledger import Intent, Ledger
from batchpay.model import RowStatus
from batchpay.plan import Plan
from batchpay.plan.preflight import Check, LedgerView
from batchpay.providers import sandbox_state_path
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.report import build_report
from batchpay.report.books import journal_lines
from batchpay.resources import load_schema_file
from batchpay.validate.options import SheetOptions
from tests.conftest import HEADER, SAMPLES, TRON

SAMPLE = SAMPLES / "payroll-2026-11.csv"


def _codes(error: SheetRejected) -> set[str]:
    return {p.code for p in error.problems}


def _bank_payouts(settings: Settings) -> int:
    bank = SandboxProvider(SandboxBank(sandbox_state_path(settings.ledger)))
    try:
        listing = bank.list_payouts()
        return 0 if listing is None else len(listing.payouts)
    finally:
        bank.close()


def _emulated(tmp_path: Path, emulator: Emulator, **values: Any) -> Settings:
    return load_settings(
        {"ledger": tmp_path / "l.sqlite", "report_dir": tmp_path / "r", **values},
        environ=emulator.env(),
        cwd=tmp_path,
    )


def _creates(emulator: Emulator, provider: str = "2328io") -> int:
    return sum(
        1 for m, p in emulator[provider].requests if m == "POST" and p.endswith("/v1/payout")
    )


# -- 12.3a: one check for both ----------------------------------------------------------


def test_the_dry_run_refuses_what_the_run_refuses(settings: Settings) -> None:
    """Same sheet, new batch id, same ledger: both refuse with paid_recently."""
    assert api.run(SAMPLE, "sandbox", "nov", settings=settings).exit_code == 0
    verdicts = []
    for dry_run in (True, False):
        with pytest.raises(SheetRejected) as refused:
            api.run(SAMPLE, "sandbox", "nov-again", settings=settings, dry_run=dry_run)
        verdicts.append(sorted((p.row, p.code) for p in refused.value.problems))
        assert refused.value.exit_code == 1
    assert verdicts[0] == verdicts[1]
    assert len(verdicts[0]) == 10 and {c for _, c in verdicts[0]} == {"payment.paid_recently"}
    assert _bank_payouts(settings) == 10
    with Ledger(settings.ledger) as ledger:
        assert ledger.batch("nov-again") is None


def test_the_dry_run_exits_1_on_the_command_line_too(workdir: Path) -> None:
    def cli(*extra: str) -> int:
        args = ["run", str(SAMPLE), "--provider", "sandbox", *extra]
        return CliRunner().invoke(main, args, catch_exceptions=False).exit_code

    assert cli("--batch", "nov") == 0
    assert cli("--batch", "nov-again", "--dry-run") == 1
    assert cli("--batch", "nov-again") == 1
    assert cli("--batch", "nov-again", "--dry-run", "--allow-duplicates") == 0


# -- 11.1c: two batch ids at once -------------------------------------------------------


def test_two_batch_ids_for_one_sheet_started_together_pay_once(
    settings: Settings, write_sheet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = write_sheet([(f"E-{i:03d}", f"{100 + i}.00") for i in range(30)])
    first_inside, second_started = threading.Event(), threading.Event()
    claim = Ledger.claim

    def gated(self: Ledger, plan: Plan, check: Check, **options: Any) -> Any:
        if plan.batch == "second":
            second_started.set()  # from here it waits for the first's transaction
            return claim(self, plan, check, **options)

        def held(view: LedgerView) -> Any:
            first_inside.set()
            assert second_started.wait(120), "the second run never started"  # guard only
            return check(view)

        return claim(self, plan, held, **options)

    monkeypatch.setattr(Ledger, "claim", gated)
    outcomes: dict[str, Any] = {}

    def pay(batch: str) -> None:
        try:
            outcomes[batch] = api.run(sheet, "sandbox", batch, settings=settings)
        except SheetRejected as exc:
            outcomes[batch] = exc

    first = threading.Thread(target=pay, args=("first",))
    first.start()
    assert first_inside.wait(120)
    second = threading.Thread(target=pay, args=("second",))
    second.start()
    first.join()
    second.join()

    assert outcomes["first"].exit_code == 0 and outcomes["first"].requests_sent == 30
    refused = outcomes["second"]
    assert isinstance(refused, SheetRejected) and refused.exit_code == 1
    assert len(refused.problems) == 30 and _codes(refused) == {"payment.paid_recently"}
    assert _bank_payouts(settings) == 30
    with Ledger(settings.ledger) as ledger:
        assert ledger.batch("second") is None and ledger.rows("second") == []


def test_a_batch_planned_but_never_sent_blocks_a_second_batch_id(
    settings: Settings, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet([("E-1", "10.00"), ("E-2", "12.00")])
    plan = api.run(sheet, "sandbox", "first", settings=settings, dry_run=True).plan
    assert plan is not None
    with Ledger(settings.ledger) as ledger:  # a run that saved its plan, then stopped
        ledger.save_plan(plan, sandbox=True, rounding="down", fee_option="deduct")
    with pytest.raises(SheetRejected) as refused:
        api.run(sheet, "sandbox", "second", settings=settings)
    assert _codes(refused.value) == {"payment.paid_recently"}
    assert "not sent yet" in refused.value.problems[0].message
    assert _bank_payouts(settings) == 0


# -- 11.1d: a reference re-spelled on a re-run ------------------------------------------


@pytest.mark.parametrize("respelled", ["E-\u0430001", "E-a001\u200b"])
def test_a_respelled_reference_is_not_paid_again(
    settings: Settings, write_sheet: Callable[..., Path], respelled: str
) -> None:
    rows = [("E-a001", "2500.00"), ("E-a002", "2750.50")]
    assert api.run(write_sheet(rows), "sandbox", "b", settings=settings).exit_code == 0
    again = write_sheet([(respelled, "2500.00"), ("E-a002", "2750.50")], name="again.csv")
    for dry_run in (True, False):
        if respelled.isprintable():  # a look-alike letter: the same payment, another reference
            with pytest.raises(SheetRejected) as refused:
                api.run(again, "sandbox", "b", settings=settings, dry_run=dry_run)
            assert refused.value.exit_code == 1
            assert _codes(refused.value) == {"payment.repeated"}
        else:  # an invisible character is stripped (with a warning): the same row, resumed
            result = api.run(again, "sandbox", "b", settings=settings, dry_run=dry_run)
            assert result.requests_sent == 0
            assert any("U+200B" in p.message for p in result.problems)
    assert _bank_payouts(settings) == 2
    with Ledger(settings.ledger) as ledger:
        assert [r.reference for r in ledger.rows("b")] == ["E-a001", "E-a002"]


# -- 12.3b: pairs the provider cannot pay -----------------------------------------------


def test_validate_refuses_the_sample_xrp_row_for_2328io(settings: Settings) -> None:
    result = api.validate(SAMPLE, "2328io", settings=settings)
    assert not result.ok and result.rows == 9
    (problem,) = [p for p in result.problems if p.code == "provider.cannot_pay"]
    assert (problem.row, problem.column, problem.value) == (10, "network", "XRP")
    assert "TRON" in problem.message and "XRP" in problem.message


@pytest.mark.parametrize(
    ("provider", "refused"), [("2328io", [10]), ("thedex", [9]), ("oxapay", []), ("sandbox", [])]
)
def test_every_provider_table_against_the_sample(
    settings: Settings, provider: str, refused: list[int]
) -> None:
    result = api.validate(SAMPLE, provider, settings=settings)
    assert [p.row for p in result.problems if p.code == "provider.cannot_pay"] == refused


def test_thedex_refuses_a_text_memo(settings: Settings) -> None:
    (problem,) = [
        p
        for p in api.validate(SAMPLE, "thedex", settings=settings).problems
        if p.code == "provider.cannot_pay"
    ]
    assert (problem.row, problem.column, problem.value) == (9, "memo", "payroll-8")
    assert "numeric memo" in problem.message


def test_a_network_added_in_the_config_can_be_paid(workdir: Path) -> None:
    settings = load_settings(
        {"ledger": workdir / "l.sqlite", "networks": {"2328io": {"XRP": "XRP"}}},
        environ={},
        cwd=workdir,
    )
    result = api.validate(SAMPLE, "2328io", settings=settings)
    assert not [p for p in result.problems if p.code == "provider.cannot_pay"]


def test_thedex_refuses_a_currency_missing_from_its_table(
    settings: Settings, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet([("A", "10")], header=HEADER)
    sheet.write_text(sheet.read_text().replace("USDT,TRON", "USDC,TRON"))
    (problem,) = [
        p
        for p in api.validate(sheet, "thedex", settings=settings).problems
        if p.code == "provider.cannot_pay"
    ]
    assert problem.column == "currency" and "TRX, USDT" in problem.message


def test_pontis_refuses_a_funding_currency_it_does_not_take(settings: Settings) -> None:
    path = settings.ledger.parent / "fiat.csv"
    path.write_text(
        "reference,amount,currency,country_code,payout_currency,payment_method,"
        "recipient_name,recipient.account_number\n"
        "P-1,100.00,USDT,IN,INR,imps,Asha,0012345678\n"
        "P-2,100.00,BTC,IN,INR,imps,Ravi,0012345679\n"
    )
    result = api.validate(path, "pontis", settings=settings)
    assert [(p.row, p.code) for p in result.problems if p.code == "provider.cannot_pay"] == [
        (3, "provider.cannot_pay")
    ]


def test_the_dry_run_and_the_run_refuse_the_xrp_row_for_2328io(tmp_path: Path) -> None:
    emulator = Emulator()
    settings = _emulated(tmp_path, emulator)
    for dry_run in (True, False):
        with pytest.raises(SheetRejected) as refused:
            api.run(
                SAMPLE,
                "2328io",
                "nov",
                settings=settings,
                dry_run=dry_run,
                transport=emulator.transport(),
            )
        assert [(p.row, p.code) for p in refused.value.problems] == [(10, "provider.cannot_pay")]
    assert _creates(emulator) == 0


def test_every_provider_table_matches_what_its_emulation_accepts() -> None:
    providers = load_schema_file("providers.toml")
    canonical = set(load_schema_file("networks.toml"))
    for name in ("oxapay", "thedex", "2328io"):
        assert set(providers[name]["networks"]) <= canonical, name
    assert set(providers["2328io"]["networks"].values()) <= EMU_2328_NETWORKS
    suffix = providers["thedex"]["networks"]
    listed = {
        f"{currency}_{suffix[network]}"
        for network, currencies in providers["thedex"]["currencies"].items()
        for currency in currencies
    }
    assert listed == set(EMU_THEDEX_PAYCURRENCIES)  # TheDex's published table, both ways


# -- 12.3c: a fee as large as the amount ------------------------------------------------


def test_a_fee_at_least_the_amount_is_refused_in_the_dry_run_and_the_run(
    settings: Settings, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet([("A", "0.50"), ("B", "1.00"), ("C", "1.05")])  # sandbox fee: 1 USDT
    for dry_run in (True, False):
        with pytest.raises(SheetRejected) as refused:
            api.run(sheet, "sandbox", "b", settings=settings, dry_run=dry_run)
        assert [(p.row, p.code) for p in refused.value.problems] == [
            (2, "amount.below_fee"),
            (3, "amount.below_fee"),
        ]
    assert "would get -0.5" in refused.value.problems[0].message
    assert _bank_payouts(settings) == 0
    added = load_settings(
        {"ledger": settings.ledger, "report_dir": settings.report_dir, "fee_option": "add"},
        environ={},
        cwd=settings.ledger.parent,
    )
    result = api.run(sheet, "sandbox", "b", settings=added)  # the recipient gets the amount
    assert result.exit_code == 0 and result.requests_sent == 3


def test_2328io_fee_check_quotes_a_few_rows_and_sends_nothing(tmp_path: Path) -> None:
    emulator = Emulator()
    settings = _emulated(tmp_path, emulator)
    sheet = tmp_path / "s.csv"
    rows = [f"A,1.00,USDT,TRON,{TRON[0]},,x"] + [
        f"R{i},{20 + i}.00,USDT,TRON,{TRON[i % 4]},,x" for i in range(40)
    ]
    sheet.write_text(
        "reference,amount,currency,network,address,memo,description\n" + "\n".join(rows)
    )
    with pytest.raises(SheetRejected) as refused:
        api.run(sheet, "2328io", "b", settings=settings, transport=emulator.transport())
    assert [(p.row, p.code) for p in refused.value.problems] == [(2, "amount.below_fee")]
    assert _creates(emulator) == 0
    calcs = [p for m, p in emulator["2328io"].requests if p.endswith("/calc")]
    assert len(calcs) == 2  # 1.00 (eaten by the 1.5 fee), then 20.00: enough


def test_no_journal_line_is_ever_negative(
    settings: Settings, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet([("A", "1.05"), ("B", "2.00"), ("C", "0.50")])
    with pytest.raises(SheetRejected):
        api.run(sheet, "sandbox", "b", settings=settings)
    sheet = write_sheet([("A", "1.05"), ("B", "2.00")])
    assert api.run(sheet, "sandbox", "b", settings=settings).exit_code == 0
    with Ledger(settings.ledger) as ledger:
        lines = journal_lines(build_report(ledger, "b"))
    assert lines and all(line.debit >= 0 and line.credit >= 0 for line in lines)
    assert sum(line.debit for line in lines) == sum(line.credit for line in lines)


# -- 12.3d: status only asks --------------------------------------------------------------


def test_status_after_an_interrupted_2328io_run_sends_no_payout(tmp_path: Path) -> None:
    emulator = Emulator()
    settings = _emulated(tmp_path, emulator)
    sheet = tmp_path / "s.csv"
    sheet.write_text(
        "reference,amount,currency,network,address\n"
        + "".join(f"E-{i},{10 + i}.00,USDT,TRON,{TRON[i]}\n" for i in range(3))
    )
    plan = api.run(
        sheet, "2328io", "b", settings=settings, dry_run=True, transport=emulator.transport()
    ).plan
    assert plan is not None
    with Ledger(settings.ledger) as ledger:  # killed after its intents were committed
        ledger.save_plan(plan, sandbox=False, rounding="down", fee_option="deduct")
        ledger.begin(
            "b",
            [
                Intent(i.row_key, 1, attempt_key(i.row_key, 1, KeyForm.UUID), "create")
                for i in plan.items
            ],
        )
    emulator["2328io"].requests.clear()

    result = api.status("b", settings=settings, transport=emulator.transport())
    assert _creates(emulator) == 0 and result.requests_sent == 0
    with Ledger(settings.ledger) as ledger:
        rows = ledger.rows("b")
    assert {(r.status, r.error_code) for r in rows} == {(RowStatus.UNKNOWN, "not_sent")}
    assert "run the same `batchpay run` command again" in (rows[0].error_message or "").lower()
    api.status("b", settings=settings, transport=emulator.transport())
    assert _creates(emulator) == 0

    again = api.run(sheet, "2328io", "b", settings=settings, transport=emulator.transport())
    assert _creates(emulator) == 3 and emulator["2328io"].count() == 3
    assert again.requests_sent == 3
    with Ledger(settings.ledger) as ledger:
        assert all(r.attempt_no == 1 for r in ledger.rows("b"))  # the same keys, resent once


def test_allow_duplicates_turns_the_ledger_repeat_into_a_warning(
    settings: Settings, write_sheet: Callable[..., Path]
) -> None:
    api.run(write_sheet([("E-a001", "10.00")]), "sandbox", "b", settings=settings)
    again = write_sheet([("E-\u0430001", "10.00")], name="again.csv")
    result = api.run(
        again, "sandbox", "b", settings=settings, options=SheetOptions(allow_duplicates=True)
    )
    assert [p.code for p in result.problems] == ["reference.mixed_script", "payment.repeated"]
    assert result.requests_sent == 1 and _bank_payouts(settings) == 2


# -- the same kinds elsewhere: retry, and the dry run's batch check ---------------------


def test_retry_leaves_a_row_another_batch_has_paid_since(
    settings: Settings, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet([("E-1", "10.00"), ("E-2", "12.00")])
    assert api.run(sheet, "sandbox", "a", settings=settings).exit_code == 0
    # both payouts failed later (say, by callback)
    with Ledger(settings.ledger) as ledger, ledger.transaction() as db:
        db.execute("UPDATE payouts SET status = 'failed' WHERE batch_id = 'a'")
    only_e1 = write_sheet([("E-1", "10.00")], name="e1.csv")
    assert api.run(only_e1, "sandbox", "b", settings=settings).requests_sent == 1
    before = _bank_payouts(settings)

    result = api.retry("a", settings=settings)
    assert result.requests_sent == 1 and _bank_payouts(settings) == before + 1  # E-2 only
    with Ledger(settings.ledger) as ledger:
        rows = {r.reference: r for r in ledger.rows("a")}
    assert rows["E-1"].status is RowStatus.NEEDS_REVIEW
    assert rows["E-1"].error_code == "paid_elsewhere" and "'b'" in (rows["E-1"].error_message or "")
    assert rows["E-2"].attempt_no == 2


def test_the_dry_run_refuses_another_provider_for_a_known_batch(settings: Settings) -> None:
    from batchpay.errors import UsageError

    api.run(SAMPLE, "sandbox", "nov", settings=settings)
    emulator = Emulator()
    with pytest.raises(UsageError, match="paid through sandbox"):
        api.run(
            SAMPLE,
            "oxapay",
            "nov",
            settings=load_settings(
                {"ledger": settings.ledger}, environ=emulator.env(), cwd=settings.ledger.parent
            ),
            dry_run=True,
            transport=emulator.transport(),
        )


def test_a_sandbox_rehearsal_never_blocks_the_live_batch(tmp_path: Path) -> None:
    # The sandbox moved no money: the same sheet paid live afterwards is not "paid recently".
    emulator = Emulator()
    settings = _emulated(tmp_path, emulator)
    sheet = tmp_path / "s.csv"
    sheet.write_text(
        "reference,amount,currency,network,address,memo,description\n"
        + "\n".join(f"R{i},{20 + i}.00,USDT,TRON,{TRON[i % 4]},,x" for i in range(3))
    )
    rehearsal = api.run(sheet, "sandbox", "rehearsal", settings=settings)
    assert rehearsal.exit_code == 0 and rehearsal.requests_sent == 3
    live = api.run(sheet, "2328io", "live", settings=settings, transport=emulator.transport())
    assert live.exit_code == 0 and live.requests_sent == 3
    assert not [p for p in live.problems if p.code == "payment.paid_recently"]
    # a second live batch of the same sheet is still refused, and so is a second rehearsal
    for provider, batch in (("2328io", "live-again"), ("sandbox", "rehearsal-again")):
        with pytest.raises(SheetRejected) as refused:
            api.run(sheet, provider, batch, settings=settings, transport=emulator.transport())
        assert {p.code for p in refused.value.problems} == {"payment.paid_recently"}
    assert _creates(emulator) == 3


def test_a_failed_row_changed_in_the_sheet_is_told_nothing_was_paid(
    settings: Settings, write_sheet: Callable[..., Path]
) -> None:
    api.run(write_sheet([("E-1", "500.01")]), "sandbox", "b", settings=settings)  # fails
    fixed = write_sheet([("E-1", "500.00")], name="fixed.csv")
    with pytest.raises(SheetRejected) as refused:
        api.run(fixed, "sandbox", "b", settings=settings)
    (problem,) = refused.value.problems
    assert problem.code == "plan.changed_after_send"
    assert "Nothing was paid for it" in problem.message and "difference" not in problem.message
