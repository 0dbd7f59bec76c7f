"""The four-eyes commands: keygen, submit, approve and audit verify (batchpay.fouryes_api)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from batchpay.cli.common import LEDGER_HELP, PROVIDER, _examples, _fail, _settings
from batchpay.cli.sheets import _sheet_flags, _sheet_options
from batchpay.errors import BatchpayError
from batchpay.terminal import err, print_problems, say

if TYPE_CHECKING:
    from batchpay.config import Settings
    from batchpay.fouryes_api import ApprovalView
    from batchpay.ledger.fouryes import AuditEntry


@click.command(epilog=_examples("batchpay keygen ~/.ssh/batchpay_ed25519"))
@click.argument("path", type=click.Path(path_type=Path))
def keygen(path: Path) -> None:
    """Write a new Ed25519 signing key (OpenSSH format) to PATH, and PATH.pub.

    The passphrase comes from BATCHPAY_SIGNING_KEY_PASSPHRASE, else it is asked on a
    terminal (empty: none). An existing file is never overwritten."""
    from batchpay import fouryes_api

    try:
        passphrase = os.environ.get("BATCHPAY_SIGNING_KEY_PASSPHRASE") or _ask_passphrase()
        key = fouryes_api.keygen(path, passphrase=passphrase)
    except BatchpayError as exc:
        _fail(exc, False)
    public = path.with_name(path.name + ".pub")
    say(f"private key: {path} (keep it secret; mode 0600)")
    say(f"public key:  {public}")
    say(f"fingerprint: {key.fingerprint}")
    say(f'approvers file: key = "{public.read_text(encoding="utf-8").strip()}"')
    say(f"sign with it: export BATCHPAY_SIGNING_KEY={path}")


def _ask_passphrase() -> str | None:
    if not sys.stdin.isatty():
        return None
    typed = click.prompt(
        "Passphrase (empty for none)", default="", hide_input=True, show_default=False
    )
    if typed:
        again = click.prompt("Same passphrase again", hide_input=True)
        if again != typed:
            raise click.UsageError("the passphrases differ; nothing was written")
    return str(typed) or None


@click.command(
    epilog=_examples("batchpay submit payroll.xlsx --provider oxapay --batch payroll-2026-11")
)
@click.argument("sheet", type=click.Path(path_type=Path))
@click.option("--provider", type=PROVIDER, required=True, help="Who will send the payouts.")
@click.option("--batch", required=True, help="Names the payout run, e.g. payroll-2026-11.")
@click.option(
    "--fee-option",
    type=click.Choice(["deduct", "add"]),
    help="2328io: as run will be given it (it enters the plan and its digest).",
)
@click.option("--sheet", "sheet_name", help="XLSX: the worksheet to read.")
@click.option("--ledger", type=str, metavar="PATH|URL", help=LEDGER_HELP)
@_sheet_flags
def submit(
    sheet: Path,
    provider: str,
    batch: str,
    fee_option: str | None,
    sheet_name: str | None,
    ledger: str | None,
    **sheet_flags: Any,
) -> None:
    """Plan a sheet as run would and record it for approval, signed by you (the preparer)."""
    from batchpay import fouryes_api

    try:
        settings = _settings(ledger=ledger, fee_option=fee_option)
        _warn_open_key(settings)
        done = fouryes_api.submit(
            sheet,
            provider,
            batch,
            settings=settings,
            sheet_name=sheet_name,
            options=_sheet_options(**sheet_flags),
        )
    except BatchpayError as exc:
        _fail(exc, False)
    print_problems(done.problems)
    say(f"submitted batch {done.batch} via {done.provider}: {done.rows} row(s)")
    for currency, amount in done.totals.items():
        say(f"  {currency}: {amount} to send")
    say(f"prepared by {done.preparer} ({done.fingerprint})")
    say(f"digest: {done.digest}")
    if done.voided:
        say(f"{done.voided} earlier approval(s) of another plan are void", console=err)
    say(f"needs {done.required} approval(s): batchpay approve --batch {done.batch}")


@click.command(
    epilog=_examples(
        "batchpay approve --batch payroll-2026-11",
        "batchpay approve --batch payroll-2026-11 --digest 3f1c... --ack EMP-007",
    )
)
@click.option("--batch", required=True, help="The submitted batch to approve.")
@click.option("--digest", help="Bind to this plan digest (from review) without a prompt.")
@click.option(
    "--ack",
    "acks",
    multiple=True,
    metavar="REFERENCE",
    help="A new or changed payee you checked; repeatable.",
)
@click.option("--yes", is_flag=True, help="Show the summary and sign without asking.")
@click.option("--ledger", type=str, metavar="PATH|URL", help=LEDGER_HELP)
def approve(
    batch: str, digest: str | None, acks: tuple[str, ...], yes: bool, ledger: str | None
) -> None:
    """Sign the submitted plan of a batch as an approver (shows it and its changes first)."""
    from batchpay import fouryes_api

    confirm = None
    if digest is None and (yes or sys.stdin.isatty()):
        confirm = _confirm_yes if yes else _confirm_prompt
    try:
        settings = _settings(ledger=ledger)
        _warn_open_key(settings)
        done = fouryes_api.approve(
            batch, settings=settings, digest=digest, acks=acks, confirm=confirm
        )
    except BatchpayError as exc:
        _fail(exc, False)
    verb = "had already approved" if done.already else "approved"
    say(f"{done.approver} {verb} batch {done.batch} (digest {done.digest})")
    if done.acks:
        say(f"acknowledged: {', '.join(done.acks)}")
    names = ", ".join(done.counted) or "none"
    say(f"approvals that count: {len(done.counted)} of {done.required} needed ({names})")


def _warn_open_key(settings: Settings) -> None:
    """On stderr: the signing key can be read by others (as OpenSSH warns; it still signs)."""
    import stat

    from batchpay.approvals.keys import KEY_VAR

    named = settings.env.get(KEY_VAR)
    try:
        mode = Path(named).expanduser().stat().st_mode if named else 0
    except OSError:  # the key loader says what is wrong with it
        return
    if os.name == "posix" and stat.S_ISREG(mode) and mode & 0o077:
        say(
            ("warning: ", "bold yellow"),
            f"the signing key {named} can be read by others (mode {stat.S_IMODE(mode):04o}); "
            f"chmod 600 {named}",
            console=err,
        )


def _show_view(view: ApprovalView) -> None:
    sub = view.submission
    say(f"batch {view.batch} via {sub.provider}: {len(view.plan.items)} row(s)")
    for currency, amount in view.totals.items():
        say(f"  {currency}: {amount} to send")
    say(f"prepared by {sub.preparer} ({sub.fingerprint}) at {sub.submitted_at}")
    say(f"digest: {sub.digest}")
    standing = view.standing
    say(f"approvals: {len(standing.counted)} of {standing.required} needed")
    if not view.changes:
        say("no changes since the last paid batch (or none was paid before)")
    for c in view.changes:
        row = f"row {c.row} " if c.row is not None else ""
        say((f"{c.kind.upper()} ", "bold yellow"), f"{row}{c.reference}: {c.note}")
    if view.must_ack:
        say(f"named with --ack: {', '.join(view.must_ack)}")


def _confirm_yes(view: ApprovalView) -> bool:
    _show_view(view)
    return True


def _confirm_prompt(view: ApprovalView) -> bool:
    """On a terminal: y or yes signs; anything else, or the end of input, declines (exit 5);
    Ctrl-C exits 130 with nothing signed."""
    from batchpay.cli.confirm import ask_line

    _show_view(view)
    typed = ask_line(f"Sign the approval of batch {view.batch}? [y/N]: ")
    return typed is not None and typed.strip().lower() in ("y", "yes")


@click.group(epilog=_examples("batchpay audit verify --batch payroll-2026-11"))
def audit() -> None:
    """The audit log of a batch."""


@audit.command(epilog=_examples("batchpay audit verify --batch payroll-2026-11"))
@click.option("--batch", required=True, help="The batch whose trail to check.")
@click.option("--ledger", type=str, metavar="PATH|URL", help=LEDGER_HELP)
def verify(batch: str, ledger: str | None) -> None:
    """Check the audit chain and every signature offline (exit 0 valid, 1 not)."""
    from batchpay import fouryes_api

    try:
        verdict = fouryes_api.audit_verify(batch, settings=_settings(ledger=ledger))
    except BatchpayError as exc:
        _fail(exc, False)
    for entry in verdict.trail:
        say(_trail_line(entry))
    for problem in verdict.problems:
        say(("problem: ", "bold red"), problem)
    if verdict.ok:
        say(
            f"batch {batch}: {verdict.entries} audit entries, chain and signatures ",
            ("valid", "green"),
        )
    else:
        say(f"batch {batch}: ", ("INVALID", "bold red"), f" ({len(verdict.problems)} problem(s))")
    sys.exit(0 if verdict.ok else 1)


def _trail_line(entry: AuditEntry) -> str:
    """One audit entry as ``audit verify`` lists it: seq, time, who, what, and how."""
    payload = entry.payload
    how = f" via {payload['via']}" if isinstance(payload.get("via"), str) else ""
    account = payload.get("account")
    if isinstance(account, str):
        how += f" (web account {account})"
    return f"  {entry.seq:>3} {entry.at} {entry.actor}: {entry.action}{how}"
