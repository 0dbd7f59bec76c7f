"""Printing a run's result for a person: the plan of a dry run, or the summary, the rows
that need attention and the report files."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

from batchpay.cli.common import _emit_json
from batchpay.jsonout import run_json
from batchpay.terminal import ATTENTION_LIMIT, err, out, print_problems, say, table

if TYPE_CHECKING:
    from batchpay.api import RunResult


def _show(result: RunResult, as_json: bool, command: str) -> NoReturn:
    if as_json:
        _emit_json(run_json(result))
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


def _show_summary(result: RunResult, command: str) -> None:
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


def _show_attention(result: RunResult) -> None:
    from batchpay import guard

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


def _show_plan(result: RunResult) -> None:
    data = run_json(result)
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
