"""The commands that read a sheet: validate and run, with the flags that describe it."""

from __future__ import annotations

import sys
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
from batchpay.cli.show import _show
from batchpay.errors import BatchpayError, UsageError
from batchpay.jsonout import validation_json
from batchpay.money import AmountError, parse_amount, to_wire
from batchpay.terminal import TerminalProgress, print_problems, say

if TYPE_CHECKING:
    from batchpay.validate.options import SheetOptions

# batchpay.validate.presets.PRESETS, repeated here: importing the sheet stages (pandas,
# pandera) only to print --help would cost a second (tests/test_startup.py keeps them equal)
PRESETS = ("safe", "coinspaid", "inqud")


def _sheet_flags(f: Any) -> Any:
    """Flags that tell batchpay about the sheet (validate and run)."""
    for option in reversed(
        [
            click.option("--locale", help="The sheet's number format, e.g. de_DE (1.234,50)."),
            click.option(
                "--preset", type=click.Choice(PRESETS), help="A layout from another tool."
            ),
            click.option(
                "--columns",
                "columns_file",
                type=click.Path(path_type=Path),
                help='TOML file mapping your headers: "Staff no" = "reference".',
            ),
            click.option(
                "--allow-duplicates",
                is_flag=True,
                help="The same payment under two references is intended.",
            ),
            click.option(
                "--expect-total",
                "expect_totals",
                nargs=2,
                multiple=True,
                metavar="AMOUNT CURRENCY",
                help="Control total; repeatable.",
            ),
            click.option("--expect-rows", type=click.IntRange(0), help="Control row count."),
        ]
    ):
        f = option(f)
    return f


def _sheet_options(
    locale: str | None,
    preset: str | None,
    columns_file: Path | None,
    allow_duplicates: bool,
    expect_totals: tuple[tuple[str, str], ...],
    expect_rows: int | None,
) -> SheetOptions:
    from batchpay.validate.options import SheetOptions
    from batchpay.validate.presets import read_column_map

    totals = {}
    for amount, currency in expect_totals:
        try:
            totals[currency.upper()] = parse_amount(amount)
        except AmountError as exc:
            raise UsageError(f"--expect-total {amount} {currency}: {exc}") from None
    return SheetOptions(
        locale=locale,
        preset=preset,
        allow_duplicates=allow_duplicates,
        expect_totals=totals,
        expect_rows=expect_rows,
        column_map=read_column_map(columns_file) if columns_file else {},
    )


@click.command(
    epilog=_examples(
        "batchpay validate payroll.xlsx --provider oxapay",
        "batchpay validate payroll.csv --locale de_DE --expect-total 9850.62 USDT --expect-rows 10",
    )
)
@click.argument("sheet", type=click.Path(path_type=Path))
@click.option("--provider", type=PROVIDER, help="Check the columns this provider needs.")
@click.option("--sheet", "sheet_name", help="XLSX: the worksheet to read (default: the first).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option(
    "--annotated",
    type=click.Path(path_type=Path),
    help="Where to write the marked-up copy (default: SHEET-STEM.checked.xlsx here).",
)
@click.option("--no-annotated", is_flag=True, help="Do not write the marked-up copy.")
@_sheet_flags
def validate(
    sheet: Path,
    provider: str | None,
    sheet_name: str | None,
    as_json: bool,
    annotated: Path | None,
    no_annotated: bool,
    **sheet_flags: Any,
) -> None:
    """Check a sheet without sending anything (exit 1 if it has errors).

    If the sheet has problems, a copy with each one marked on its cell is written as XLSX."""
    from batchpay import api

    target = None if no_annotated else annotated or Path(f"{sheet.stem}.checked.xlsx")
    try:
        result = api.validate(
            sheet,
            provider,
            settings=_settings(),
            sheet_name=sheet_name,
            options=_sheet_options(**sheet_flags),
            annotate=target,
        )
    except BatchpayError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(validation_json(result))
    else:
        print_problems(result.problems)
        for r in result.roundings:
            say(
                f"row {r.row}: {r.reference} {r.requested} {r.currency} rounded to "
                f"{r.rounded} ({r.places} places, delta {to_wire(r.delta)})"
            )
        if result.annotated:
            say(f"marked-up copy: {result.annotated}")
        verdict = ("valid", "green") if result.ok else ("invalid", "red")
        say(f"{result.sheet}: ", verdict, f", {result.rows} payable row(s)")
        for currency, t in result.totals.items():
            say(f"  {currency}: {t['to_send']} to send (requested {t['requested']})")
    sys.exit(0 if result.ok else 1)


class _RunCommand(click.Command):
    """``run``: --provider is required with a SHEET (without one, --batch names a submitted
    plan, which knows its provider)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        if ctx.params.get("sheet") is not None and ctx.params.get("provider") is None:
            raise click.UsageError("Missing option '--provider' (needed with a SHEET).", ctx=ctx)
        return rest


@click.command(
    cls=_RunCommand,
    epilog=_examples(
        "batchpay run payroll.xlsx --provider sandbox --batch payroll-2026-11 --dry-run",
        "batchpay run payroll.xlsx --provider oxapay --batch payroll-2026-11 --json",
        "batchpay run --batch payroll-2026-11",
    ),
)
@click.argument("sheet", type=click.Path(path_type=Path), required=False)
@click.option(
    "--provider",
    type=PROVIDER,
    help="Who sends the payouts; sandbox moves no money (needed with a SHEET).",
)
@click.option("--batch", required=True, help="Names the payout run, e.g. payroll-2026-11.")
@click.option("--dry-run", is_flag=True, help="Validate and plan; send and write nothing.")
@click.option("--yes", is_flag=True, help="Do not ask on a terminal before paying a live provider.")
@click.option("--report-dir", type=click.Path(path_type=Path), help=REPORT_DIR_HELP)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="Payout requests in flight at once (default 4).",
)
@click.option(
    "--fee-option",
    type=click.Choice(["deduct", "add"]),
    help="2328io: deduct takes the fee from the amount, add charges it on top (default deduct).",
)
@click.option("--sheet", "sheet_name", help="XLSX: the worksheet to read.")
@_ledger_options
@_sheet_flags
def run(
    sheet: Path | None,
    provider: str | None,
    batch: str,
    dry_run: bool,
    yes: bool,
    report_dir: Path | None,
    concurrency: int | None,
    fee_option: str | None,
    sheet_name: str | None,
    ledger: str | None,
    as_json: bool,
    **sheet_flags: Any,
) -> None:
    """Validate, plan and pay a sheet; re-running resumes without paying twice.

    On a terminal, a live provider is paid only after you type the batch id (--yes skips it).
    Without SHEET, pays the plan submitted for --batch (batchpay submit)."""
    from batchpay import api
    from batchpay.cli.confirm import confirmation

    try:
        settings = _settings(
            ledger=ledger, report_dir=report_dir, concurrency=concurrency, fee_option=fee_option
        )
        result = api.run(
            sheet,
            provider,
            batch,
            settings=settings,
            dry_run=dry_run,
            progress=TerminalProgress(),
            sheet_name=sheet_name,
            options=_sheet_options(**sheet_flags),
            confirm=confirmation(yes, dry_run),
        )
    except BatchpayError as exc:
        _fail(exc, as_json)
    _show(result, as_json, "run")
