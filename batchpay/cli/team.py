"""The commands for a team: ``users add`` (an account of the web app) and ``serve`` (the web
app itself). The web stack (Starlette, uvicorn, argon2) is imported inside them only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from batchpay.cli.common import LEDGER_HELP, _examples, _fail, _settings
from batchpay.errors import BatchpayError, UsageError
from batchpay.terminal import err, say

ROLES = ("preparer", "approver", "viewer", "admin")  # batchpay.ledger.tables.ROLES


@click.group(epilog=_examples("batchpay users add alice --role preparer"))
def users() -> None:
    """The accounts of the web app (stored in the ledger)."""


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    if not _on_terminal():
        raise UsageError("no terminal to ask for the password on; pass --password-stdin")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


@users.command(
    "add",
    epilog=_examples(
        "batchpay users add alice --role preparer",
        "printf '%s\\n' \"$PASSWORD\" | batchpay users add bob --role approver --password-stdin",
    ),
)
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.option("--ledger", type=str, metavar="PATH|URL", help=LEDGER_HELP)
def users_add(name: str, role: str, password_stdin: bool, ledger: str | None) -> None:
    """Add an account; the password is asked twice on a terminal and stored hashed (argon2id).
    A preparer, approver or admin also gets a signing key for the web (printed, for the
    approvers file), its private half sealed under the password."""
    from batchpay.ledger import Ledger
    from batchpay.ledger.users import add_user
    from batchpay.web.accounts import check_new_password, hash_password
    from batchpay.web.signing import new_web_key

    try:
        settings = _settings(ledger=ledger)
        password = _read_password(password_stdin)
        problem = check_new_password(password)
        if problem:
            raise UsageError(problem)
        key = None if role == "viewer" else new_web_key(name.strip(), password)
        with Ledger(settings.ledger) as opened:
            add_user(opened, name, role, hash_password(password),
                     key.public_line if key else None, key.sealed if key else None)  # fmt: skip
    except BatchpayError as exc:
        _fail(exc, False)
    say(f"user {name.strip()} added as {role} in {settings.ledger}")
    if key is not None:
        _show_key(name.strip(), role, key.public_line)


def _show_key(name: str, role: str, line: str) -> None:
    """The account's public key and what to do with it (nothing secret is printed)."""
    from batchpay.web.signing import approvers_entry, fingerprint_of, roster_role

    say(f"web signing key of {name} ({fingerprint_of(line)}):")
    click.echo(line)
    say(
        "With four eyes on, its submit and approve in the browser count only once an admin "
        "adds this key to the approvers file, under the person's name and role (a person may "
        "list several keys, e.g. a CLI key and this one, under the same name):"
    )
    click.echo(approvers_entry(name, roster_role(role), line))


@users.command(
    "key",
    epilog=_examples("batchpay users key alice", "batchpay users key alice --ledger L.sqlite"),
)
@click.argument("name")
@click.option("--ledger", type=str, metavar="PATH|URL", help=LEDGER_HELP)
def users_key(name: str, ledger: str | None) -> None:
    """Print an account's public signing key again (for the approvers file)."""
    from batchpay.ledger.users import get_user
    from batchpay.session import existing_ledger

    try:
        settings = _settings(ledger=ledger)
        with existing_ledger(settings) as opened:
            user = get_user(opened, name.strip())
        if user is None:
            raise UsageError(f"no user {name.strip()!r} in the ledger {settings.ledger}")
        if user.public_key is None:
            raise UsageError(
                f"{user.name} has no signing key yet ({user.role}s made before this version "
                "get one at their next log-in; a viewer has none)"
            )
    except BatchpayError as exc:
        _fail(exc, False)
    _show_key(user.name, user.role, user.public_key)


@click.command(
    epilog=_examples(
        "batchpay serve",
        "batchpay serve --host 0.0.0.0 --port 8330 --secure-cookies",
    )
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8330, show_default=True, help="Port."
)
@click.option("--ledger", type=str, metavar="PATH|URL", help=LEDGER_HELP)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="Mark session cookies Secure even without X-Forwarded-Proto: https.",
)
def serve(host: str, port: int, ledger: str | None, secure_cookies: bool) -> None:
    """Serve the web app until Ctrl-C (put a TLS reverse proxy in front for a network)."""
    import uvicorn

    from batchpay.web.app import WebConfig, create_app

    try:
        settings = _settings(ledger=ledger)
        config = WebConfig(
            settings=settings,
            secret=os.environ.get("BATCHPAY_WEB_SECRET") or None,
            secure_cookies=secure_cookies,
            upload_dir=Path("batchpay-uploads").resolve(),
        )
        app = create_app(config)
    except BatchpayError as exc:
        _fail(exc, False)
    say(f"batchpay web app: http://{host}:{port}/  (ledger {settings.ledger})")
    try:
        uvicorn.run(
            app, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False
        )
    except OSError as exc:
        say(("error: ", "bold red"), f"cannot listen on {host}:{port}: {exc}", console=err)
        sys.exit(2)
