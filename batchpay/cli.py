"""The command line: parse, call one library function, print, map errors to exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from batchpay import api, guard
from batchpay.config import PROVIDERS, Settings, load_settings
from batchpay.errors import BatchpayError, UsageError
from batchpay.money import AmountError, parse_amount, to_wire
from batchpay.serving import serve_until_interrupted
from batchpay.terminal import (
    ATTENTION_LIMIT,
    BatchpayGroup,
    TerminalProgress,
    err,
    fail,
    out,
    print_problems,
    say,
    table,
)
from batchpay.validate.options import SheetOptions
from batchpay.validate.presets import PRESETS, read_column_map

PROVIDER = click.Choice(PROVIDERS)


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


def _settings(**flags: Any) -> Settings:
    return load_settings({k: v for k, v in flags.items() if v is not None})


def _finite(value: float, name: str) -> float:  # float-ok: seconds
    if value != value:  # NaN passes every range check
        raise click.BadParameter(f"{name} takes a number of seconds, not nan")
    return value


def _emit_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _fail(exc: BatchpayError, as_json: bool) -> NoReturn:
    fail(exc, as_json, _emit_json)


@click.group(cls=BatchpayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="batchpay")
def main() -> None:
    """Pay a payroll sheet through a payout provider exactly once, and reconcile it."""


@main.command()
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
        _emit_json(result.to_json())
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


def _ledger_options(f: Any) -> Any:
    f = click.option("--ledger", type=click.Path(path_type=Path), help="Ledger file.")(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(f)
    return f


@main.command()
@click.argument("sheet", type=click.Path(path_type=Path))
@click.option("--provider", type=PROVIDER, required=True)
@click.option("--batch", required=True, help="Names the payout run, e.g. payroll-2026-11.")
@click.option("--dry-run", is_flag=True, help="Validate and plan; send and write nothing.")
@click.option("--report-dir", type=click.Path(path_type=Path))
@click.option("--concurrency", type=click.IntRange(1, 64))
@click.option("--fee-option", type=click.Choice(["deduct", "add"]))
@click.option("--sheet", "sheet_name", help="XLSX: the worksheet to read.")
@_ledger_options
@_sheet_flags
def run(
    sheet: Path,
    provider: str,
    batch: str,
    dry_run: bool,
    report_dir: Path | None,
    concurrency: int | None,
    fee_option: str | None,
    sheet_name: str | None,
    ledger: Path | None,
    as_json: bool,
    **sheet_flags: Any,
) -> None:
    """Validate, plan and pay a sheet; re-running resumes without paying twice."""
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
        )
    except BatchpayError as exc:
        _fail(exc, as_json)
    _show(result, as_json, "run")


@main.command()
@click.option("--batch", required=True)
@click.option(
    "--wait",
    type=click.FloatRange(0, 366 * 86400),  # inf is refused too: a wait must end
    default=0.0,
    callback=lambda ctx, param, value: _finite(value, "--wait"),
    help="Keep polling up to this many seconds for final states.",
)
@_ledger_options
def status(batch: str, wait: float, ledger: Path | None, as_json: bool) -> None:  # float-ok
    """Ask the provider about every row that is not final and update the ledger."""
    try:
        result = api.status(
            batch, settings=_settings(ledger=ledger), wait=wait, progress=TerminalProgress()
        )
    except BatchpayError as exc:
        _fail(exc, as_json)
    _show(result, as_json, "status")


@main.command()
@click.option("--batch", required=True)
@_ledger_options
def retry(batch: str, ledger: Path | None, as_json: bool) -> None:
    """Send again, with new keys, only the rows whose last attempt failed for good."""
    try:
        result = api.retry(batch, settings=_settings(ledger=ledger), progress=TerminalProgress())
    except BatchpayError as exc:
        _fail(exc, as_json)
    _show(result, as_json, "retry")


@main.command()
@click.option("--batch", required=True)
@click.option("--format", "formats", default="html,csv,xlsx,journal,attempts", show_default=True)
@click.option("--report-dir", type=click.Path(path_type=Path))
@click.option("--ledger", type=click.Path(path_type=Path))
def report(batch: str, formats: str, report_dir: Path | None, ledger: Path | None) -> None:
    """Write the reconciliation files for a batch from the ledger."""
    try:
        wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
        files = api.report(
            batch, settings=_settings(ledger=ledger, report_dir=report_dir), formats=wanted
        )
    except BatchpayError as exc:
        _fail(exc, False)
    for path in files:
        say(str(path))


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8328, show_default=True)
def sandbox(port: int) -> None:
    """Serve the local emulation of all four providers on 127.0.0.1 (Ctrl-C stops it)."""
    from batchpay.emulator import Emulator
    from batchpay.emulator.server import EmulatorServer

    emulator = Emulator()
    try:
        server = EmulatorServer(emulator, port=port)
    except OSError as exc:
        say(
            ("error: ", "bold red"),
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror}",
            console=err,
        )
        sys.exit(2)
    say(f"batchpay sandbox: emulating oxapay, thedex, pontis and 2328io at {server.url}")
    say("Point batchpay at it (these are the emulation's own test credentials):")
    for name, value in emulator.env(server.url).items():
        say(f"export {name}={value}")
    serve_until_interrupted(server)


@main.group()
def webhooks() -> None:
    """Receive provider callbacks and apply them to the ledger."""


@webhooks.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8329, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Listen address; put a TLS reverse proxy in front for the internet.",
)
@click.option("--ledger", type=click.Path(path_type=Path))
def webhooks_serve(port: int, host: str, ledger: Path | None) -> None:
    """Serve POST /webhooks/<provider> until Ctrl-C."""
    from batchpay.webhooks import Receiver
    from batchpay.webhooks.server import WebhookServer

    settings = _settings(ledger=ledger)
    if settings.ledger.exists() or not settings.ledger.parent.is_dir():
        with api._existing_ledger(settings):  # one it cannot use is said now, not per callback
            pass
    receiver = Receiver(settings.ledger, settings.env)
    try:
        server = WebhookServer(receiver, host, port)
    except OSError as exc:
        say(("error: ", "bold red"), f"cannot listen on {host}:{port}: {exc.strerror}", console=err)
        sys.exit(2)
    say(f"batchpay webhooks: {server.url}/webhooks/<provider> -> {settings.ledger}")
    if not settings.ledger.exists():
        say(f"  no ledger at {settings.ledger} yet: callbacks are answered 202 and ignored")
    for provider, reason in receiver.missing.items():
        say(f"  {provider}: not configured ({reason})")
    serve_until_interrupted(server)


def _show(result: api.RunResult, as_json: bool, command: str) -> NoReturn:
    if as_json:
        _emit_json(result.to_json())
        sys.exit(result.exit_code)
    print_problems(result.problems)
    if result.sandbox:
        say(("SANDBOX: no money moves", "bold yellow"))
    dry = " (dry run: nothing sent, nothing written)" if result.dry_run else ""
    say(f"batch {result.batch} via {result.provider}{dry}")
    if result.dry_run and result.plan is not None:
        _show_plan(result)
    elif result.summary is not None:
        _show_summary(result, command)
    sys.exit(result.exit_code)


def _show_summary(result: api.RunResult, command: str) -> None:
    summary = result.summary
    assert summary is not None
    counts = ", ".join(f"{k} {v}" for k, v in summary.counts.items() if v)
    say(f"{summary.rows} row(s): {counts}")
    for currency, t in summary.totals.items():
        say(f"  {currency}: requested {t['requested']}, sent {t['sent']}, fees {t['fees']}")
    if result.stopped:
        then = " Fix it, then run the same command again." if command != "status" else ""
        label = ("stopped: ", "bold red") if command != "status" else ("provider: ", "bold red")
        say(label, f"{result.stopped}.{then}", console=err)
    elif command != "status" and not result.requests_sent:
        say(f"nothing to send: {_why_nothing(command, summary.counts)}")
    _show_attention(result)
    check = ("holds", "green") if summary.identity_holds else ("FAILS", "red")
    say("control identity: ", check)
    for path in result.report_files:
        say(f"report: {path}")


def _why_nothing(command: str, counts: dict[str, int]) -> str:
    now = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "no rows"
    if command == "retry":
        return f"no row failed for good ({now})"
    return f"every row was already sent by an earlier run of this batch ({now})"


def _show_attention(result: api.RunResult) -> None:
    rows, total = guard.attention(result.ledger_path, result.batch, ATTENTION_LIMIT)
    if not rows:
        return
    say(f"{total} row(s) need attention:")
    out.print(
        table(
            ("row", "reference", "name", "status", "reason"),
            ((r.sheet_row, r.reference, r.name, r.status, guard.reason(r)) for r in rows),
        )
    )
    if total > len(rows):
        say(f"and {total - len(rows)} more; see the report")


def _show_plan(result: api.RunResult) -> None:
    data = result.to_json()
    columns = ("row", "reference", "amount", "currency", "network", "address", "fee")
    out.print(
        table(
            (*columns, "recipient gets", "debited"),
            (
                (
                    p["row"],
                    p["reference"],
                    p["amount"],
                    p["currency"],
                    p["network"],
                    p["address"],
                    p.get("fee", ""),
                    p.get("recipient_gets", ""),
                    p.get("debited", ""),
                )
                for p in data["payouts"]
            ),
        )
    )
    for r in data["roundings"]:
        say(f"row {r['row']}: {r['requested']} rounded to {r['rounded']} (delta {r['delta']})")
    for currency, t in data["totals"].items():
        extra = (
            (f", fees {t['fees']}, recipients get {t['recipients_get']}, debited {t['debited']}")
            if "fees" in t
            else ""
        )
        say(f"  {currency}: {t['to_send']} to send (requested {t['requested']}){extra}")
