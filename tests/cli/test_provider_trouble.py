"""Refused credentials and an unreachable provider are said out loud (issue 12, item 1b)."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchpay.emulator import Emulator
from batchpay.emulator.server import EmulatorServer
from batchpay.providers import CREDENTIALS_HINT
from tests.cli.helpers import as_json, cli, ended
from tests.conftest import TRON

CRYPTO_HEADER = "reference,name,amount,currency,network,address"
FIAT_HEADER = (
    "reference,amount,currency,country_code,payout_currency,payment_method,"
    "recipient_name,recipient.account_number,recipient.ifsc"
)
# the variable made wrong, and the request the provider refuses (pontis: the login)
WRONG = {
    "oxapay": ("BATCHPAY_OXAPAY_PAYOUT_API_KEY", ("POST", "/payout")),
    "thedex": ("BATCHPAY_THEDEX_API_SECRET", ("POST", "/api/v1/payouts/create")),
    "pontis": ("BATCHPAY_PONTIS_PASSWORD", ("POST", "/api/v1/user/login")),
    "2328io": ("BATCHPAY_2328IO_PAYOUT_API_KEY", ("POST", "/v1/payout")),
}


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    srv = EmulatorServer(Emulator())
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A loopback port that is bound but not listening: every connection is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def _sheet(path: Path, provider: str, rows: int) -> Path:
    if provider == "pontis":
        lines = [FIAT_HEADER] + [
            f"P-{i:03d},{100 + i}.00,USDT,IN,INR,imps,Person {i},00{i:010d},HDFC0000{i:03d}"
            for i in range(rows)
        ]
    else:
        lines = [CRYPTO_HEADER] + [
            f"E-{i:03d},Person {i},{10 + i}.00,USDT,TRON,{TRON[i % len(TRON)]}" for i in range(rows)
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _point_at(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("provider", sorted(WRONG))
def test_refused_credentials_stop_at_the_first_refusal_name_the_variables_and_exit_2(
    server: EmulatorServer, workdir: Path, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    variable, refused = WRONG[provider]
    _point_at(monkeypatch, server.emulator.env(server.url) | {variable: "wrong"})
    sheet = _sheet(workdir / "s.csv", provider, 12)
    args = ("run", sheet, "--provider", provider, "--batch", "b", "--concurrency", "1")

    result = ended(cli(*args), 2)
    assert f"stopped: {provider} refused the credentials" in result.stderr
    assert all(name in result.stderr for name in CREDENTIALS_HINT[provider])
    assert "12 row(s) not sent" in result.stderr
    seen = server.emulator[provider].requests
    assert seen.count(refused) == 1  # stopped at the first refusal: no second request
    assert server.emulator[provider].count() == 0

    again = ended(cli(*args, "--json"), 2)
    data = as_json(again)
    assert data["counts"] == {"planned": 12}
    assert f"{provider} refused the credentials" in data["stopped"]
    assert variable in data["stopped"]
    assert seen.count(refused) == 2


def test_an_unreachable_provider_is_named_with_the_rows_left_unsent(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, dead_url: str
) -> None:
    _point_at(monkeypatch, Emulator().env(dead_url))
    sheet = _sheet(workdir / "s.csv", "2328io", 5)
    args = ("run", sheet, "--provider", "2328io", "--batch", "b")

    result = ended(cli(*args), 3)
    assert "stopped: cannot reach 2328io" in result.stderr
    assert "check BATCHPAY_2328IO_BASE_URL and the network; 5 row(s) not sent" in result.stderr
    assert "5 row(s) need attention" in result.stdout

    data = as_json(ended(cli(*args, "--json"), 3))
    assert data["counts"] == {"planned": 5}
    assert data["stopped"].startswith("cannot reach 2328io (connect_error")
    assert data["stopped"].endswith("; 5 row(s) not sent")


def test_status_against_a_dead_url_says_so(
    server: EmulatorServer, workdir: Path, monkeypatch: pytest.MonkeyPatch, dead_url: str
) -> None:
    _point_at(monkeypatch, server.emulator.env(server.url))
    sheet = _sheet(workdir / "s.csv", "oxapay", 3)
    ended(cli("run", sheet, "--provider", "oxapay", "--batch", "b"), 0)  # accepted: pending

    _point_at(monkeypatch, Emulator().env(dead_url))
    result = ended(cli("status", "--batch", "b"), 0)  # pending still counts as done
    assert "provider: cannot reach oxapay" in result.stderr
    assert "check BATCHPAY_OXAPAY_BASE_URL" in result.stderr
    data = as_json(ended(cli("status", "--batch", "b", "--json"), 0))
    assert data["stopped"].startswith("cannot reach oxapay (connect_error")

    _point_at(monkeypatch, server.emulator.env(server.url) | {WRONG["oxapay"][0]: "wrong"})
    refused = ended(cli("status", "--batch", "b"), 2)
    assert "oxapay refused the credentials" in refused.stderr
    assert "BATCHPAY_OXAPAY_PAYOUT_API_KEY" in refused.stderr


def test_retry_with_refused_credentials_counts_the_failed_rows_left_unsent(
    server: EmulatorServer, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, server.emulator.env(server.url))
    sheet = _sheet(workdir / "s.csv", "2328io", 20)
    ended(cli("run", sheet, "--provider", "2328io", "--batch", "b"), 0)
    db = sqlite3.connect(workdir / "batchpay-ledger.sqlite")
    db.execute("UPDATE payouts SET status = 'failed'")  # as if every payout had failed
    db.commit()
    db.close()

    # one at a time: a window of 16 rows is tried, the last 4 are never reached
    _point_at(monkeypatch, {"BATCHPAY_2328IO_PAYOUT_API_KEY": "wrong", "BATCHPAY_CONCURRENCY": "1"})
    result = ended(cli("retry", "--batch", "b"), 2)
    assert "2328io refused the credentials" in result.stderr
    assert "20 row(s) not sent" in result.stderr
    assert server.emulator["2328io"].requests.count(WRONG["2328io"][1]) == 21

    # the key fixed: the next retry sends every row the stopped retry left, once each
    _point_at(monkeypatch, server.emulator.env(server.url))
    fixed = as_json(ended(cli("retry", "--batch", "b", "--json"), 0))
    assert fixed["requests_sent"] == 20
    assert set(fixed["counts"]) <= {"pending", "processing", "completed"}
