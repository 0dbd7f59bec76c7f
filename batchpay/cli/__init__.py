"""The command line: parse, call one library function, print, map errors to exit codes.

The commands live by what they work on: ``sheets`` (validate, run), ``batches`` (status,
retry, report) and ``servers`` (sandbox, webhooks); ``show`` prints results and ``common``
holds what they share. Heavy imports (pandas, pandera, the api) stay inside the commands.
"""

from __future__ import annotations

import click

from batchpay.cli.batches import report, retry, status
from batchpay.cli.common import _examples
from batchpay.cli.fouryes import approve, audit, keygen, submit
from batchpay.cli.review import review
from batchpay.cli.servers import sandbox, webhooks
from batchpay.cli.sheets import PRESETS as PRESETS  # tests/test_startup.py checks them
from batchpay.cli.sheets import run, validate
from batchpay.cli.team import serve, users
from batchpay.terminal import BatchpayGroup


@click.group(
    cls=BatchpayGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_examples(
        "batchpay validate payroll.xlsx --provider oxapay",
        "batchpay run payroll.xlsx --provider oxapay --batch payroll-2026-11 --dry-run",
        "batchpay run payroll.xlsx --provider oxapay --batch payroll-2026-11",
        "batchpay status --batch payroll-2026-11",
    ),
)
@click.version_option(package_name="batchpay")
def main() -> None:
    """Pay a payroll sheet through a payout provider exactly once, and reconcile it."""


for _command in (validate, run, status, retry, report, sandbox, webhooks, users, serve):
    main.add_command(_command)
for _command in (submit, approve, keygen, audit):  # four eyes
    main.add_command(_command)
main.add_command(review)  # four eyes: the review pack
