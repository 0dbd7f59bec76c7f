"""The web app under test: a ledger with four accounts, and a client per person."""

from __future__ import annotations

import contextlib
import functools
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from batchpay.approvals.keys import SigningKey, public_line
from batchpay.config import Settings
from batchpay.ledger import Ledger
from batchpay.ledger.users import add_user
from batchpay.web.accounts import LoginLimiter, hash_password
from batchpay.web.app import WebConfig, create_app
from batchpay.web.audit import Audit
from batchpay.web.signing import comment, seal

PASSWORD = "correct horse battery"
PEOPLE = {"alice": "preparer", "bob": "approver", "vera": "viewer", "adam": "admin"}
MAX_BODY = 4 * 1024 * 1024  # the upload cap in these tests (the CLI's is 200 MB)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@functools.cache
def web_key(name: str) -> tuple[SigningKey, str, str]:
    """The web signing key of account ``name`` (made once per test session: sealing costs an
    argon2id derivation): the key, its public line, and the key sealed under PASSWORD."""
    private = Ed25519PrivateKey.generate()
    line = public_line(private.public_key(), comment(name))
    return SigningKey(private), line, seal(private, name, PASSWORD)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0  # float-ok: seconds

    def __call__(self) -> float:  # float-ok
        return self.now


@dataclass
class Web:
    config: WebConfig
    clock: FakeClock
    settings: Settings
    url: str
    audited: list[tuple[str, str, str]]
    clients: list[httpx.Client]

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=60)
        self.clients.append(client)
        return client

    def signed_in(self, name: str) -> httpx.Client:
        client = self.client()
        assert login(client, name) == 303
        return client


@contextlib.contextmanager
def serving(config: WebConfig) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free port of 127.0.0.1. The socket listens
    before the thread starts, so a request made at once waits in its backlog: no polling."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: httpx.Client, name: str, password: str = PASSWORD) -> int:
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login", data={"csrf": token, "name": name, "password": password, "next": "/"}
    )
    return answer.status_code


@contextlib.contextmanager
def web_app(settings: Settings, workdir: Path, *, ledger_audit: bool = False) -> Iterator[Web]:
    """The app over ``settings``' ledger, with the four accounts of PEOPLE (each but the
    viewer with its web signing key, :func:`web_key`), served. Its audit goes to the list
    ``audited``, or with ``ledger_audit`` to the ledger's audit log as ``serve`` does."""
    with Ledger(settings.ledger) as ledger:
        hashed = hash_password(PASSWORD)
        for name, role in PEOPLE.items():
            _, line, sealed = web_key(name) if role != "viewer" else (None, None, None)
            add_user(ledger, name, role, hashed, line, sealed)
    clock = FakeClock()
    audited: list[tuple[str, str, str]] = []
    listed: Audit = lambda batch, user, action, details: audited.append((batch, user, action))  # noqa: E731
    config = WebConfig(
        settings=settings,
        upload_dir=workdir / "uploads",
        limiter=LoginLimiter(attempts=5, window=900.0, clock=clock),
        audit=None if ledger_audit else listed,
        max_body=MAX_BODY,
    )
    with serving(config) as url:
        web = Web(config, clock, settings, url, audited, [])
        yield web
        for client in web.clients:
            client.close()


@pytest.fixture
def web(settings: Settings, workdir: Path) -> Iterator[Web]:
    with web_app(settings, workdir) as served:
        yield served
