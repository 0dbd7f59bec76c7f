"""The commands that serve: the provider emulation and the webhook receiver."""

from __future__ import annotations

import sys

import click

from batchpay.cli.common import LEDGER_HELP, _examples, _settings
from batchpay.terminal import err, say


@click.command(epilog=_examples("batchpay sandbox --port 8328"))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8328,
    show_default=True,
    help="Port on 127.0.0.1 to listen on (0: any free port).",
)
def sandbox(port: int) -> None:
    """Serve the local emulation of all four providers on 127.0.0.1 (Ctrl-C stops it).

    BATCHPAY_SANDBOX_BALANCE (USDT=1000,BTC=0.5) sets the emulated accounts' balances."""
    from batchpay.config import Environment
    from batchpay.emulator import Emulator
    from batchpay.emulator.server import EmulatorServer
    from batchpay.errors import ConfigError
    from batchpay.providers.sandbox import configured_balance
    from batchpay.serving import serve_until_interrupted

    emulator = Emulator()
    try:
        balance = configured_balance(Environment.load())
    except ConfigError as exc:
        say(("error: ", "bold red"), str(exc), console=err)
        sys.exit(2)
    for emulated in emulator.providers.values():
        emulated.balances = dict(balance or {})
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


@click.group(
    epilog=_examples("batchpay webhooks serve --port 8329 --ledger batchpay-ledger.sqlite")
)
def webhooks() -> None:
    """Receive provider callbacks and apply them to the ledger."""


@webhooks.command(
    "serve",
    epilog=_examples(
        "batchpay webhooks serve",
        "batchpay webhooks serve --host 0.0.0.0 --port 8329 --ledger /srv/batchpay-ledger.sqlite",
    ),
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8329,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Listen address; put a TLS reverse proxy in front for the internet.",
)
@click.option("--ledger", type=str, metavar="PATH|URL", help=LEDGER_HELP)
def webhooks_serve(port: int, host: str, ledger: str | None) -> None:
    """Serve POST /webhooks/<provider> until Ctrl-C."""
    from batchpay.serving import serve_until_interrupted
    from batchpay.webhooks import Receiver
    from batchpay.webhooks.server import WebhookServer

    settings = _settings(ledger=ledger)
    if settings.ledger.exists() or not settings.ledger.parent.is_dir():
        from batchpay.session import existing_ledger

        with existing_ledger(settings):  # one it cannot use is said now, not per callback
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
