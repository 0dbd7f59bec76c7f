"""The emulation over loopback: a client that leaves before its answer prints nothing, a real
error in the emulation still prints its traceback, and a bad Content-Length gets a 400."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from batchpay.emulator import Emulator, Fault, Gate
from batchpay.emulator.core import EmuRequest, EmuResponse
from batchpay.emulator.server import EmulatorServer


class _Served:
    """An emulation server whose handler threads the test can wait for."""

    def __init__(self) -> None:
        self.server = EmulatorServer(Emulator())
        self.finished = threading.Semaphore(0)
        close = self.server.shutdown_request

        def shutdown_request(request: Any) -> None:  # runs last in every handler thread
            close(request)
            self.finished.release()

        self.server.shutdown_request = shutdown_request  # type: ignore[method-assign]

    def connect(self) -> socket.socket:
        host, port = self.server.server_address[:2]
        return socket.create_connection((str(host), port), timeout=20)

    def wait_handled(self) -> None:
        assert self.finished.acquire(timeout=60)


@pytest.fixture
def served() -> Iterator[_Served]:
    served = _Served()
    served.server.start()
    try:
        yield served
    finally:
        served.server.stop()


def _request(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_client_gone_before_its_answer_prints_nothing(
    served: _Served, capfd: pytest.CaptureFixture[str]
) -> None:
    gate = Gate()
    served.server.emulator.faults.add(Fault("oxapay", "hold", op="*", gate=gate))
    with served.connect() as sock:
        sock.sendall(_request("/oxapay/v1/payout", "Content-Length: 2") + b"{}")
        assert gate.wait_arrived(1, timeout=60)
        # leave with a reset, as a client does that gave up: the answer can only fail
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    gate.open()
    served.wait_handled()
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_a_real_error_in_the_emulation_is_still_reported(
    served: _Served, capfd: pytest.CaptureFixture[str]
) -> None:
    def broken(request: EmuRequest) -> EmuResponse:
        raise RuntimeError("emulation bug")

    served.server.emulator.handle = broken  # type: ignore[method-assign]
    with served.connect() as sock:
        sock.sendall(_request("/oxapay/v1/payout", "Content-Length: 0"))
        assert sock.recv(100) == b""
    served.wait_handled()
    err = capfd.readouterr().err
    assert "Traceback" in err and "RuntimeError: emulation bug" in err


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "５"])
def test_a_bad_content_length_gets_a_400(served: _Served, length: str) -> None:
    with served.connect() as sock:
        sock.sendall(_request("/oxapay/v1/payout", f"Content-Length: {length}"))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert served.server.emulator["oxapay"].requests == []
