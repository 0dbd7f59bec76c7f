"""The commands over a batch in the ledger: status, retry and report."""

from __future__ import annotations

from pathlib import Path

import click

from batchpay.cli.common import (
    LEDGER_HELP,
    REPORT_DIR_HELP,
    _examples,
    _fail,
    _ledger_options,
    _settings,
)
from batchpay.cli.show import _show
from batchpay.errors import BatchpayError
from batchpay.terminal import TerminalProgress, say


def _finite(value: float, name: str) -> float:  # float-ok: seconds
    if value != value:  # NaN passes every range check
        raise click.BadParameter(f"{name} takes a number of seconds, not nan")
    return value


@click.command(
    epilog=_examples(
        "batchpay status --batch payroll-2026-11",
        "batchpay status --batch payroll-2026-11 --wait 300 --json",
    )
)
@click.option("--batch", required=True, help="The batch to ask about, as given to run.")
@click.option(
    "--wait",
    type=click.FloatRange(0, 366 * 86400),  # inf is refused too: a wait must end
    default=0.0,
    callback=lambda ctx, param, value: _finite(value, "--wait"),
    help="Keep polling up to this many seconds for final states.",
)
@_ledger_options
def status(batch: str, wait: float, ledger: str | None, as_json: bool) -> None:  # float-ok
    """Ask the provider about every row that is not final and update the ledger."""
    from batchpay import api

    try:
        result = api.status(
            batch, settings=_settings(ledger=ledger), wait=wait, progress=TerminalProgress()
        )
    except BatchpayError as exc:
        _fail(exc, as_json)
    _show(result, as_json, "status")


@click.command(epilog=_examples("batchpay retry --batch payroll-2026-11"))
@click.option("--batch", required=True, help="The batch to retry, as given to run.")
@_ledger_options
def retry(batch: str, ledger: str | None, as_json: bool) -> None:
    """Send again, with new keys, only the rows whose last attempt failed for good."""
    from batchpay import api

    try:
        result = api.retry(batch, settings=_settings(ledger=ledger), progress=TerminalProgress())
    except BatchpayError as exc:
        _fail(exc, as_json)
    _show(result, as_json, "retry")


@click.command(
    epilog=_examples(
        "batchpay report --batch payroll-2026-11",
        "batchpay report --batch payroll-2026-11 --format html,csv --report-dir out",
        "batchpay report --batch payroll-2026-11 --format qbo,beancount",
    )
)
@click.option("--batch", required=True, help="The batch to report on, as given to run.")
@click.option(
    "--format",
    "formats",
    default="html,csv,xlsx,journal,attempts",
    show_default=True,
    help="The files to write, comma-separated: html, csv, xlsx, journal, attempts, and the "
    "accounting exports qbo, xero, netsuite, beancount, hledger.",
)
@click.option("--report-dir", type=click.Path(path_type=Path), help=REPORT_DIR_HELP)
@click.option("--ledger", type=str, metavar="PATH|URL", help=LEDGER_HELP)
def report(batch: str, formats: str, report_dir: Path | None, ledger: str | None) -> None:
    """Write the reconciliation files for a batch from the ledger."""
    from batchpay import api

    try:
        wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
        files = api.report(
            batch, settings=_settings(ledger=ledger, report_dir=report_dir), formats=wanted
        )
    except BatchpayError as exc:
        _fail(exc, False)
    for path in files:
        say(str(path))
