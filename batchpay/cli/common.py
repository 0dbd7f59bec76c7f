"""What the commands share: option help, examples, settings from flags, JSON and failing."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import click

from batchpay.config import PROVIDERS, Settings, load_settings
from batchpay.errors import BatchpayError
from batchpay.terminal import fail

PROVIDER = click.Choice(PROVIDERS)
LEDGER_HELP = (
    "The ledger: a file (default: batchpay-ledger.sqlite, or as batchpay.toml says) or a"
    " postgresql://user@host:port/dbname URL (password from PGPASSWORD or ~/.pgpass)."
)
REPORT_DIR_HELP = "Folder for the report files (default: reports/BATCH/)."


def _examples(*lines: str) -> str:
    """A command's epilog: its examples, kept as written (click's \\b: no rewrapping)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _settings(**flags: Any) -> Settings:
    return load_settings({k: v for k, v in flags.items() if v is not None})


def _emit_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _fail(exc: BatchpayError, as_json: bool) -> NoReturn:
    fail(exc, as_json, _emit_json)


def _ledger_options(f: Any) -> Any:
    f = click.option("--ledger", type=str, metavar="PATH|URL", help=LEDGER_HELP)(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(f)
    return f
