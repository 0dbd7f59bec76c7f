"""The secret canary: every credential is a unique string; after successful runs, forced 401s,
validation errors, bad webhooks and DEBUG logging everywhere, none of them appears anywhere
batchpay writes: stdout, stderr, logs, reports, ledger and WAL bytes (raw, base64 or
URL-encoded)."""

from __future__ import annotations

import base64
import logging
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from batchpay.cli import main
from batchpay.config import Environment
from batchpay.emulator import Emulator
from batchpay.emulator.keys import EmulatorKeys
from batchpay.emulator.pontis import EmuPontis
from batchpay.emulator.server import EmulatorServer
from batchpay.providers.wire import b64url_encode
from batchpay.webhooks import Receiver
from tests.safety.helpers import write_sheet


def _canary(label: str) -> str:
    return f"CANARY-{label}-7f3a9c"


def _b64key(label: str) -> str:  # a valid 32-byte base64url key that is itself a canary
    return b64url_encode(_canary(label).encode().ljust(32, b"#")[:32])


KEYS = EmulatorKeys(
    oxapay_key=_canary("oxapay"),
    thedex_key=_canary("thedex-key"),
    thedex_secret=_canary("thedex-secret"),
    pontis_api_key=_canary("pontis-key"),
    pontis_encryption_secret=_b64key("pontis-enc"),
    pontis_hmac_secret=_b64key("pontis-hmac"),
    pontis_email="canary-mail-7f3a9c@example.com",
    pontis_password=_canary("pontis-password"),
    project_2328=_canary("2328-project"),
    key_2328=_canary("2328-key"),
)
WRONG = {
    "BATCHPAY_OXAPAY_PAYOUT_API_KEY": _canary("wrong-oxapay"),
    "BATCHPAY_2328IO_PAYOUT_API_KEY": _canary("wrong-2328"),
}


def _forms(secret: str) -> set[str]:
    raw = secret.encode()
    return {
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        urllib.parse.quote(secret),
        urllib.parse.quote_plus(secret),
    }


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "debug.log"
    handler = logging.FileHandler(path)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # httpx, httpcore and everything else at DEBUG
    yield path
    root.removeHandler(handler)
    handler.close()
    root.setLevel(old_level)


def test_no_secret_escapes(
    tmp_path: Path, debug_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    server = EmulatorServer(Emulator(KEYS))
    server.start()
    outputs: list[str] = []
    try:
        env = KEYS.env(server.url) | {"BATCHPAY_LEDGER": str(tmp_path / "l.sqlite")}
        runner = CliRunner()

        def cli(*args: str, extra: dict[str, str] | None = None) -> int:
            result = runner.invoke(
                main, list(args), env=env | (extra or {}), catch_exceptions=False
            )
            outputs.extend([result.stdout, result.stderr])
            return result.exit_code

        def pay(sheet: Path, provider: str, batch: str, extra: dict[str, str] | None = None) -> int:
            # the same references in several batches of one ledger: acknowledged on purpose
            args = ("run", str(sheet), "--provider", provider, "--batch", batch)
            return cli(*args, "--allow-duplicates", extra=extra)

        for provider in ("oxapay", "thedex", "pontis", "2328io"):
            sheet = write_sheet(tmp_path / f"{provider}.csv", provider, 5)
            assert pay(sheet, provider, provider) == 0
            assert cli("status", "--batch", provider, "--json") == 0
        # forced 401s: wrong credentials, themselves canaries (the run stops, exit 2)
        for provider in ("oxapay", "2328io"):
            sheet = write_sheet(tmp_path / f"w-{provider}.csv", provider, 5)
            assert pay(sheet, provider, f"w-{provider}", extra=WRONG) == 2  # refused: exit 2
        bad = tmp_path / "bad.csv"
        bad.write_text("reference,amount,currency,network,address\nA,NaN,USDT,TRON,x\n")
        assert cli("validate", str(bad), "--json") == 1
        assert cli("run", str(bad), "--provider", "oxapay", "--batch", "bad") == 1
        receiver = Receiver(tmp_path / "l.sqlite", Environment(env))
        for provider in ("oxapay", "thedex", "pontis", "2328io"):
            outputs.append(receiver.handle(provider, {"hmac": "0"}, b'{"sign":"x"}').text)
        pontis = server.emulator["pontis"]
        assert isinstance(pontis, EmuPontis)
        tokens = list(pontis.tokens)  # issued JWTs are secrets too
    finally:
        server.stop()
    assert tokens
    secrets = [
        v
        for v in (*KEYS.__dict__.values(), *WRONG.values())
        if "7f3a9c" in v or v == KEYS.pontis_encryption_secret or v == KEYS.pontis_hmac_secret
    ]
    secrets += tokens
    blobs = {f"output {i}": text.encode() for i, text in enumerate(outputs)}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".csv":  # sheets are inputs, not outputs
            blobs[str(path.relative_to(tmp_path))] = path.read_bytes()
    assert any(name.endswith("-wal") for name in blobs) or any(
        name.endswith(".sqlite") for name in blobs
    )
    assert debug_log.stat().st_size > 0  # logging really ran
    leaks = [
        (name, form)
        for secret in secrets
        for form in _forms(secret)
        for name, data in blobs.items()
        if form.encode() in data
    ]
    assert leaks == []
