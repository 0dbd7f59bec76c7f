"""``batchpay review``: the review pack, for the person who checks a batch before it is paid."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from batchpay.cli.common import (
    PROVIDER,
    REPORT_DIR_HELP,
    _emit_json,
    _examples,
    _fail,
    _ledger_options,
    _settings,
)
from batchpay.cli.sheets import _sheet_flags, _sheet_options
from batchpay.errors import BatchpayError
from batchpay.terminal import print_problems, say

if TYPE_CHECKING:
    from batchpay.review.pack import ReviewPack


@click.command(
    epilog=_examples(
        "batchpay review payroll.xlsx --provider oxapay --batch payroll-2026-11",
        "batchpay review payroll.xlsx --provider oxapay --batch payroll-2026-11 --json",
    )
)
@click.argument("sheet", type=click.Path(path_type=Path))
@click.option("--provider", type=PROVIDER, required=True, help="Who would send the payouts.")
@click.option("--batch", required=True, help="Names the payout run, e.g. payroll-2026-11.")
@click.option("--report-dir", type=click.Path(path_type=Path), help=REPORT_DIR_HELP)
@click.option(
    "--fee-option",
    type=click.Choice(["deduct", "add"]),
    help="2328io: deduct takes the fee from the amount, add charges it on top (default deduct).",
)
@click.option("--sheet", "sheet_name", help="XLSX: the worksheet to read.")
@_ledger_options
@_sheet_flags
def review(
    sheet: Path,
    provider: str,
    batch: str,
    report_dir: Path | None,
    fee_option: str | None,
    sheet_name: str | None,
    ledger: Path | None,
    as_json: bool,
    **sheet_flags: Any,
) -> None:
    """Write the review pack (review.html, review.json) for a second person: totals per
    currency and network, fees, roundings, payee changes since the last paid batch, the
    balance and the plan digest. Sends nothing; refuses what run would refuse."""
    from batchpay import api
    from batchpay.review.pack import pack_json

    try:
        settings = _settings(ledger=ledger, report_dir=report_dir, fee_option=fee_option)
        pack = api.review(
            sheet,
            provider,
            batch,
            settings=settings,
            sheet_name=sheet_name,
            options=_sheet_options(**sheet_flags),
        )
    except BatchpayError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(pack_json(pack))
    else:
        _show_pack(pack)
    sys.exit(pack.exit_code)


def _show_pack(pack: ReviewPack) -> None:
    from batchpay.review.pack import balances_json, networks_json

    print_problems(pack.problems)
    if pack.live:
        say((" LIVE ", "bold white on red"), f" {pack.provider} moves real money")
    else:
        say(("SANDBOX: no money moves", "bold yellow"))
    say(f"review of batch {pack.batch} via {pack.provider}: {len(pack.plan.items)} row(s)")
    for n in networks_json(pack.plan, pack.quotes):
        fees = f", fees {n['fees']}" if "fees" in n else ""
        say(f"  {n['to_send']} {n['currency']} on {n['network'] or '-'} ({n['rows']} rows){fees}")
    for currency, b in balances_json(pack.balance).items():
        verdict = (
            ("not known", "yellow")
            if b["covered"] is None
            else ("covered", "green")
            if b["covered"]
            else ("SHORT: run would stop (exit 6)", "bold red")
        )
        held = b["balance"] if b["balance"] is not None else "?"
        say(f"  balance {currency}: need {b['need']}, balance {held}: ", verdict)
    _show_changes(pack)
    say("digest: ", (pack.digest, "bold"))
    for path in pack.files:
        say(f"review: {path}")


def _show_changes(pack: ReviewPack) -> None:
    if pack.compared_with is None:
        say("changes: no earlier paid batch to compare with")
        return
    counts = Counter(c.kind for c in pack.changes)
    found = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    say(f"changes since batch {pack.compared_with}: {found}")
    if pack.must_acknowledge:
        say(("must acknowledge: ", "bold"), ", ".join(pack.must_acknowledge))
