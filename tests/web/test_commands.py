"""``batchpay users add`` and ``batchpay serve`` (CONTRACT.md: a team)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from batchpay.cli import main
from batchpay.config import Settings
from batchpay.ledger import Ledger
from batchpay.ledger.users import get_user
from batchpay.web.accounts import verify_password
from tests.web.conftest import serving

BATCHPAY = str(Path(sys.executable).parent / "batchpay")


def _add(ledger: Path | str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BATCHPAY, "users", "add", *args, "--ledger", str(ledger)],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_users_add_stores_an_argon2id_hash_never_the_password(workdir: Path) -> None:
    ledger = workdir / "ledger.sqlite"
    done = _add(
        ledger, "alice", "--role", "preparer", "--password-stdin", stdin="a long passphrase\n"
    )
    assert done.returncode == 0, done.stderr
    assert "alice added as preparer" in done.stdout
    with Ledger(ledger) as opened:
        user = get_user(opened, "alice")
    assert user is not None and user.role == "preparer"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "a long passphrase")
    assert b"a long passphrase" not in ledger.read_bytes()


def test_users_add_refuses_a_taken_name_a_short_password_and_no_terminal(workdir: Path) -> None:
    ledger = workdir / "ledger.sqlite"
    assert (
        _add(
            ledger, "bob", "--role", "approver", "--password-stdin", stdin="a long passphrase\n"
        ).returncode
        == 0
    )
    again = _add(ledger, "bob", "--role", "viewer", "--password-stdin", stdin="another one!!\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = _add(ledger, "carol", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    asked = _add(ledger, "dave", "--role", "viewer")  # stdin is a pipe: nothing to prompt on
    assert asked.returncode == 2 and "--password-stdin" in asked.stderr
    bad_role = _add(ledger, "erin", "--role", "owner", "--password-stdin", stdin="x" * 12)
    assert bad_role.returncode == 2


def test_users_add_asks_twice_on_a_terminal(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batchpay.cli.team._on_terminal", lambda: True)
    ledger = workdir / "ledger.sqlite"
    typed = "first passphrase\nsecond passphrase\nfirst passphrase\nfirst passphrase\n"
    result = CliRunner().invoke(
        main, ["users", "add", "vera", "--role", "viewer", "--ledger", str(ledger)], input=typed
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and "first passphrase" not in result.output
    with Ledger(ledger) as opened:
        user = get_user(opened, "vera")
    assert user is not None and verify_password(user.password_hash, "first passphrase")


def test_serve_keeps_one_secret_in_the_ledger_or_takes_the_environments(
    workdir: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: started.append({"app": app, **kw}))
    ledger = str(settings.ledger)
    for _ in range(2):
        result = CliRunner().invoke(main, ["serve", "--port", "0", "--ledger", ledger])
        assert result.exit_code == 0, result.output
    assert started[0]["host"] == "127.0.0.1" and started[0]["port"] == 0
    secrets = [s["app"].state.web.sessions._codec.secret_keys for s in started]
    assert secrets[0] == secrets[1] and len(secrets[0][0]) >= 32  # made once, kept
    monkeypatch.setenv("BATCHPAY_WEB_SECRET", "from the environment, not the ledger")
    CliRunner().invoke(main, ["serve", "--ledger", ledger, "--secure-cookies"])
    app = started[-1]["app"]
    assert app.state.web.sessions._codec.secret_keys == [b"from the environment, not the ledger"]
    with serving(app.state.web.config) as url, httpx.Client(base_url=url) as client:
        answer = client.get("/login")
    assert answer.status_code == 200
    assert "secure" in answer.headers["set-cookie"].lower()  # --secure-cookies


def test_help_lists_users_and_serve() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "users" in result.output and "serve" in result.output


def test_web_actions_go_to_the_ledgers_audit_log_one_chain_per_batch(
    settings: Settings,
) -> None:
    from batchpay.approvals.audit import chain_problems
    from batchpay.ledger.fouryes import audit_entries
    from batchpay.web.audit import NO_BATCH, LedgerAudit

    Ledger(settings.ledger).close()
    audit = LedgerAudit(settings)  # with four eyes off too: one trail for the team
    audit("nov", "alice", "upload", {"sheet": "payroll.csv"})
    audit("nov", "bob", "run", {})
    audit("-", "bob", "login", {})  # not about a batch: the chain of its own
    audit("-", "(not signed in)", "login failed", {"name": "bob", "address": "10.0.0.9"})
    with Ledger(settings.ledger) as ledger:
        entries = audit_entries(ledger, "nov")
        other = audit_entries(ledger, NO_BATCH)
    assert [(e.actor, e.action, e.payload["via"]) for e in entries] == [
        ("alice", "web:upload", "web"),
        ("bob", "web:run", "web"),
    ]
    assert [(e.actor, e.action) for e in other] == [
        ("bob", "web:login"),
        ("(not signed in)", "web:login failed"),
    ]
    assert other[1].payload == {"name": "bob", "address": "10.0.0.9", "via": "web"}
    assert chain_problems(entries) == [] and chain_problems(other) == []
    assert not list(settings.ledger.parent.rglob("*.jsonl"))  # no separate file


def test_users_add_and_serve_take_a_postgresql_ledger(
    pg_url: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.web.conftest import login

    done = _add(pg_url, "alice", "--role", "preparer", "--password-stdin", stdin="a long one!!\n")
    assert done.returncode == 0, done.stderr
    assert "alice added as preparer in postgresql://" in done.stdout
    again = _add(pg_url, "alice", "--role", "viewer", "--password-stdin", stdin="a long one!!\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    with Ledger(pg_url) as opened:
        user = get_user(opened, "alice")
    assert user is not None and verify_password(user.password_hash, "a long one!!")
    started: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: started.append(app))
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--ledger", pg_url])
    assert result.exit_code == 0, result.output
    assert "(ledger postgresql://" in result.output
    config = started[0].state.web.config
    with serving(config) as url, httpx.Client(base_url=url) as client:
        assert login(client, "alice", "a long one!!") == 303
        assert client.get("/").status_code == 200
    with Ledger(pg_url) as opened:  # the session secret is kept in the database
        assert opened._db.scalar("SELECT count(*) FROM web_settings") == 1


def test_users_add_makes_a_web_signing_key_sealed_under_the_password(workdir: Path) -> None:
    from batchpay.approvals.keys import fingerprint, parse_public_key
    from batchpay.web.signing import unseal

    ledger = workdir / "ledger.sqlite"
    done = _add(
        ledger, "bob", "--role", "approver", "--password-stdin", stdin="a long passphrase\n"
    )
    assert done.returncode == 0, done.stderr
    with Ledger(ledger) as opened:
        user = get_user(opened, "bob")
    assert user is not None and user.public_key and user.sealed_key
    assert user.public_key.endswith(" bob (batchpay web)")
    fp = fingerprint(parse_public_key(user.public_key))
    lines = done.stdout.splitlines()
    assert user.public_key in lines and fp in done.stdout  # the line, and its fingerprint
    assert 'role = "approver"' in done.stdout and "approvers file" in done.stdout
    key = unseal(user.sealed_key, "bob", "a long passphrase")
    assert key is not None and key.fingerprint == fp
    assert unseal(user.sealed_key, "bob", "a wrong passphrase") is None
    assert unseal(user.sealed_key, "mallory", "a long passphrase") is None  # bound to bob
    raw = ledger.read_bytes()
    assert b"a long passphrase" not in raw and b"PRIVATE KEY" not in raw
    again = subprocess.run(
        [BATCHPAY, "users", "key", "bob", "--ledger", str(ledger)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert again.returncode == 0 and user.public_key in again.stdout.splitlines()
    viewer = _add(ledger, "vera", "--role", "viewer", "--password-stdin", stdin="x" * 12 + "\n")
    assert viewer.returncode == 0 and "ssh-ed25519" not in viewer.stdout  # a viewer signs nothing
    none = subprocess.run(
        [BATCHPAY, "users", "key", "vera", "--ledger", str(ledger)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert none.returncode == 2 and "no signing key" in none.stderr
