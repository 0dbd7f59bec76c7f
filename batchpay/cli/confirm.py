"""The confirm step of ``run``: on a terminal, a live provider is paid only after the operator
types the batch id back. Without a terminal nothing is asked, so scripts and cron keep working."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from batchpay.money import to_wire
from batchpay.terminal import TerminalProgress, err, say

if TYPE_CHECKING:
    from batchpay.review.confirm import Confirm, ToConfirm


def is_interactive() -> bool:
    """A person at a terminal: stdin and stderr both are one (the seam tests replace)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def confirmation(yes: bool, dry_run: bool) -> Confirm | None:
    """What ``run`` asks before paying a live provider: nothing with ``--yes``, for a dry
    run, or without a terminal (scripts and cron are never asked)."""
    return None if yes or dry_run or not is_interactive() else confirm_on_terminal


def confirm_on_terminal(what: ToConfirm) -> bool:
    """Show what will be sent, with LIVE, and ask for the batch id; True only if typed."""
    TerminalProgress.stop_all()
    say(
        (" LIVE ", "bold white on red"),
        f" {what.provider} is about to send {what.rows} payout(s) of batch {what.batch}:",
        console=err,
    )
    for (currency, network), amount in what.networks.items():
        say(f"  {to_wire(amount)} {currency}" + (f" on {network}" if network else ""), console=err)
    say(f"  plan digest {what.digest}", console=err)
    typed = ask_line(f"Type the batch id ({what.batch}) to send, anything else stops: ")
    return typed is not None and typed.strip() == what.batch


def ask_line(question: str) -> str | None:
    """Ask on stderr (stdout stays clean for --json) and read one line from stdin; None at
    the end of input. Ctrl-C is not an answer: its KeyboardInterrupt goes on, so the command
    exits 130 with nothing sent (click.prompt would turn it into a refusal, exit 2)."""
    sys.stderr.write(question)
    sys.stderr.flush()
    line = sys.stdin.readline()
    return line.rstrip("\r\n") if line else None
