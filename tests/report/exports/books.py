"""A batch to book: completed rows across midnight (two completion days, two rates), a
rounded row, a failed and a pending row (neither booked), and a USDC row with no rate in the
rates file (completed, left unvalued)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from batchpay.accounts import AccountMap, parse_accounts
from batchpay.config_tables import network_names
from batchpay.ledger import Ledger
from batchpay.model import PayoutRow
from batchpay.plan import make_plan
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.report import Report, build_report
from batchpay.report.exports.journal import Books, build_books
from batchpay.report.exports.rates import load_rates
from batchpay.report.valuation import Valuation, value_report
from batchpay.send import Engine, RetryPolicy
from tests.conftest import FixedClock

BATCH = "payroll-2026-11"
RATES = "date,currency,rate\n2026-11-01,USDT,0.9215\n2026-11-02,USDT,0.9302\n"
ACCOUNTS = {
    "expense": {"name": "Payroll expense", "code": "6100"},
    "fees": {"name": "Payout fees", "code": "6150"},
    "rounding": {"name": "Payout rounding", "code": "6190"},
    "provider": {"name": "Provider balance ({provider})", "code": "1200"},
    "USDT": {"provider": {"name": "USDT wallet", "code": "1210"}},
}
NOT_BOOKED = ("E-3", "E-4")  # failed, pending


def _row(
    n: int, ref: str, requested: str, sent: str, currency: str = "USDT", **kw: str
) -> PayoutRow:
    return PayoutRow(
        n,
        ref,
        Decimal(requested),
        Decimal(sent),
        Decimal(sent) - Decimal(requested),
        currency,
        "TRON",
        "TFEkshkSXo8yMe8vcA6P77XmiLfstNWHyT",
        memo=kw.get("memo"),
        name=kw.get("name", "Pat"),
    )


def make_ledger(
    tmp_path: Path, fee_option: str = "deduct", rows: list[PayoutRow] | None = None
) -> Ledger:
    rows = rows or [
        _row(2, "E-1", "100.00", "100.00", name="Sébastien, Jr.", memo="104365"),
        _row(3, "E-2", "10.1234567", "10.123456", name='Ann "Q" O\'Neil'),
        _row(4, "E-3", "20.02", "20.02"),  # failed: recipient not found
        _row(5, "E-4", "40.03", "40.03"),  # stays pending
        _row(6, "E-5", "60.00", "60.00", currency="USDC", name="Kim"),  # no USDC rate
        _row(7, "E-6", "25.50", "25.50", name="=cmd"),
    ]
    start = dt.datetime(2026, 11, 1, 23, 59, 40, tzinfo=dt.UTC)  # completions cross midnight
    ledger = Ledger(tmp_path / "l.sqlite", clock=FixedClock(start))
    plan = make_plan(BATCH, "sandbox", "payroll.csv", "ab" * 32, rows)
    ledger.save_plan(plan, sandbox=True, rounding="down", fee_option=fee_option)
    Engine(
        ledger=ledger,
        provider=SandboxProvider(SandboxBank()),
        batch=BATCH,
        concurrency=1,
        retry=RetryPolicy(max_tries=2),
        sleep=lambda s: None,
    ).send_planned()
    return ledger


def account_map() -> AccountMap:
    return parse_accounts(ACCOUNTS, "test", ["sandbox", "oxapay"], network_names())[1]


def valued(tmp_path: Path, fee_option: str = "deduct") -> tuple[Report, Valuation, Books]:
    rates = tmp_path / "rates.csv"
    tmp_path.mkdir(parents=True, exist_ok=True)
    rates.write_text(RATES, encoding="utf-8")
    with make_ledger(tmp_path, fee_option) as ledger:
        report = build_report(ledger, BATCH)
    valuation = value_report(report, "EUR", load_rates(rates))
    return report, valuation, build_books(report, valuation, account_map())
