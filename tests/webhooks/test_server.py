"""The webhook receiver faces the internet: each attack here goes over a real socket on
127.0.0.1 and asserts the answer, and that nothing reached the receiver that should not."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from batchpay.config import Environment
from batchpay.emulator import Emulator
from batchpay.providers.wire import hmac_hex
from batchpay.webhooks import Receiver, Reply
from batchpay.webhooks.server import MAX_BODY, WebhookServer

KEYS = Emulator().env("http://127.0.0.1:9")


class Spy(Receiver):
    """The real receiver, recording the size of every body it was handed."""

    def __init__(self, ledger: Path) -> None:
        super().__init__(ledger, Environment(KEYS))
        self.bodies: list[int] = []

    def handle(self, provider: str, headers: Mapping[str, str], body: bytes) -> Reply:
        self.bodies.append(len(body))
        return super().handle(provider, headers, body)


Served = tuple[WebhookServer, Spy]  # the running server and the receiver it hands bodies to


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path, 60.0)  # float-ok: no loaded machine is that slow to send


@pytest.fixture
def impatient(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path, 0.5)  # float-ok: only for clients that never finish


def _serve(tmp_path: Path, timeout: float) -> Iterator[Served]:  # float-ok
    spy = Spy(tmp_path / "l.sqlite")
    server = WebhookServer(spy, request_timeout=timeout)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, spy
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _connect(server: WebhookServer) -> socket.socket:
    host, port = server.server_address[:2]
    # the client's timeout only stops a broken server from hanging the test
    return socket.create_connection((host, port), timeout=20)


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _exchange(server: WebhookServer, raw: bytes) -> bytes:
    with _connect(server) as sock:
        sock.sendall(raw)
        return _read_all(sock)


def _post(path: str, body: bytes, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split()[1])


def test_negative_content_length_is_refused_before_any_body_is_read(served: Served) -> None:
    server, spy = served
    with _connect(server) as sock:
        sock.sendall(_post("/webhooks/2328io", b"", "Content-Length: -1"))
        answer = _read_all(sock)  # answered from the headers alone; no body was sent
    assert _status(answer) == 400
    assert spy.bodies == []


@pytest.mark.parametrize(
    "length",
    ["abc", "12abc", "1e3", "+5", " ", "5, 6"],
)
def test_malformed_content_length_gets_a_400(served: Served, length: str) -> None:
    server, spy = served
    answer = _exchange(server, _post("/webhooks/oxapay", b"{}", f"Content-Length: {length}"))
    assert _status(answer) == 400
    assert spy.bodies == []


def test_malformed_request_lines_and_headers_get_a_400(served: Served) -> None:
    server, spy = served
    assert _status(_exchange(server, b"POST /webhooks/oxapay\r\n\r\n")) == 400
    bad_header = _post("/webhooks/oxapay", b"{}", "Content-Length: 2", "No colon here")
    assert _status(_exchange(server, bad_header)) == 400
    twice = _post("/webhooks/oxapay", b"{}", "Content-Length: 2", "Content-Length: 3")
    assert _status(_exchange(server, twice)) == 400
    assert spy.bodies == []


def test_a_body_over_the_limit_is_refused_declared_or_chunked(served: Served) -> None:
    server, spy = served
    declared = _exchange(server, _post("/webhooks/oxapay", b"", f"Content-Length: {MAX_BODY + 1}"))
    assert _status(declared) == 413
    # chunked, no length declared: the limit is counted as the body arrives; the last chunk
    # passes it by one byte, so the server has read everything sent when it answers
    chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
    body = chunk * (MAX_BODY // 65536) + b"1\r\nx\r\n"
    answer = _exchange(server, _post("/webhooks/oxapay", body, "Transfer-Encoding: chunked"))
    assert _status(answer) == 413
    assert spy.bodies == []


def test_deep_nesting_is_refused_before_the_2328io_signature_is_read(served: Served) -> None:
    server, spy = served
    body = b"[" * 100_000
    answer = _exchange(server, _post("/webhooks/2328io", body, f"Content-Length: {len(body)}"))
    assert _status(answer) == 400
    assert answer.endswith(b"body is not JSON")
    # and a correctly signed OxaPay body, nested too deep, is refused the same way
    signed = b'{"track_id": "1", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    hmac = hmac_hex(KEYS["BATCHPAY_OXAPAY_PAYOUT_API_KEY"].encode(), signed, "sha512")
    answer = _exchange(
        server,
        _post("/webhooks/oxapay", signed, f"Content-Length: {len(signed)}", f"HMAC: {hmac}"),
    )
    assert _status(answer) == 400
    assert answer.endswith(b"malformed callback")
    assert spy.bodies == [len(body), len(signed)]


def test_a_client_that_stalls_is_cut_off(impatient: Served) -> None:
    server, spy = impatient
    with _connect(server) as sock:  # connects and says nothing
        assert _status(_read_all(sock)) == 408
    with _connect(server) as sock:  # half a request line
        sock.sendall(b"POST /webhooks/oxa")
        assert _status(_read_all(sock)) == 408
    with _connect(server) as sock:  # promises 100 bytes and sends 10
        sock.sendall(_post("/webhooks/oxapay", b"0123456789", "Content-Length: 100"))
        assert _read_all(sock) == b""  # closed: the application never had a whole body
    assert spy.bodies == []


def test_it_still_serves_after_every_attack(served: Served) -> None:
    server, spy = served
    for raw in (
        _post("/webhooks/oxapay", b"", "Content-Length: abc"),
        _post("/webhooks/2328io", b"[" * 1000, "Content-Length: 1000"),
        b"\x00\xff garbage\r\n\r\n",
    ):
        _exchange(server, raw)
    answer = _exchange(server, _post("/webhooks/oxapay", b"{}", "Content-Length: 2", "HMAC: 0"))
    assert _status(answer) == 401
    assert _status(_exchange(server, _post("/nowhere", b"", "Content-Length: 0"))) == 404
    assert spy.bodies[-1] == 2


def test_a_failure_inside_the_receiver_is_a_500_and_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Spy):
        def handle(self, provider: str, headers: Mapping[str, str], body: bytes) -> Reply:
            raise RuntimeError("disk gone")

    server = WebhookServer(Broken(tmp_path / "l.sqlite"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        answer = _exchange(server, _post("/webhooks/oxapay", b"{}", "Content-Length: 2"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert _status(answer) == 500
    assert answer.endswith(b"internal error")
    [record] = [r for r in caplog.records if r.name == "batchpay.webhooks"]
    assert record.getMessage() == "webhook for 'oxapay' failed: RuntimeError: disk gone"
    assert record.exc_info is None  # one line, no traceback


def test_the_command_serves_on_loopback_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHPAY_")} | KEYS
    command = [sys.executable, "-m", "batchpay", "webhooks", "serve", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--ledger", str(tmp_path / "l.sqlite")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.split()[2].removesuffix("/webhooks/<provider>")
        assert url.startswith("http://127.0.0.1:"), first
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=20) as sock:
            sock.sendall(_post("/webhooks/oxapay", b"{}", "Content-Length: abc"))
            assert _status(_read_all(sock)) == 400
        body = json.dumps({"uuid": "x", "sign": "0"}).encode()
        with socket.create_connection((host, int(port)), timeout=20) as sock:
            sock.sendall(_post("/webhooks/2328io", body, f"Content-Length: {len(body)}"))
            assert _status(_read_all(sock)) == 401
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err
