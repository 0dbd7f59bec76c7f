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
    """Add an account; the password is asked twice on a terminal and stored hashed (argon2id)."""
    from batchpay.ledger import Ledger
    from batchpay.ledger.users import add_user
    from batchpay.web.accounts import check_new_password, hash_password

    try:
        settings = _settings(ledger=ledger)
        password = _read_password(password_stdin)
        problem = check_new_password(password)
        if problem:
            raise UsageError(problem)
        with Ledger(settings.ledger) as opened:
            add_user(opened, name, role, hash_password(password))
    except BatchpayError as exc:
        _fail(exc, False)
    say(f"user {name.strip()} added as {role} in {settings.ledger}")


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
