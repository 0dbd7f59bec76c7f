"""``batchpay sandbox``: the emulation over real HTTP on loopback (stdlib server, no extra
dependency). A dropped answer closes the connection without writing a response. A client
that leaves before its answer (it timed out) is routine here and prints nothing."""

from __future__ import annotations

import select
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from batchpay.emulator import Emulator
from batchpay.emulator.core import EmuRequest
from batchpay.serving import QuietHTTPServer, server_url

MAX_BODY = 1024 * 1024
SOCKET_TIMEOUT_SECONDS = 60  # a stalled client is dropped; held requests wait on gates instead


class EmulatorServer(QuietHTTPServer):
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the emulation only listens on loopback")
        self.emulator = emulator
        self._open = 0  # client connections being served
        self._changed = threading.Condition()
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        return server_url(self)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="batchpay-emulator", daemon=True)
        thread.start()
        return thread

    def connected(self, change: int) -> None:
        with self._changed:
            self._open += change
            self._changed.notify_all()

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connected(+1)  # counted from the accept, before its thread starts
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.connected(-1)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connected(-1)

    def wait_idle(self, timeout: float = 60.0) -> bool:  # float-ok
        """Block until no client connection is open or waiting to be accepted: once every
        client process has exited, every request that reached the emulation has then been
        processed (``timeout`` only guards a broken test)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while time.monotonic() < deadline:
                left = deadline - time.monotonic()
                if not self._changed.wait_for(lambda: self._open == 0, left):
                    return False
                waiting, _, _ = select.select([self.socket], [], [], 0)
                if not waiting:
                    return True
                self._changed.wait(0.05)  # a connection in the backlog: let it be accepted
        return False

    def stop(self) -> None:
        self.emulator.faults.open_gates()  # nothing stays held once the test is done
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_SECONDS

    def _serve(self) -> None:
        declared = (self.headers.get("content-length") or "0").strip()
        if not declared.isdigit() or not declared.isascii():
            self.send_error(400, "bad Content-Length")
            return
        length = int(declared)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        response = self.server.emulator.handle(
            EmuRequest.build(
                self.command, parts.path, dict(self.headers.items()), body, parts.query
            )
        )
        if response.drop:
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: request lines may carry ids; nothing secret, but nothing useful either
