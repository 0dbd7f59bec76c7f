"""What batchpay's two small HTTP servers (the emulation and the webhook receiver) share."""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from typing import Any, Protocol


class Serving(Protocol):
    def serve_forever(self) -> None: ...

    def server_close(self) -> None: ...


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    name = host.decode() if isinstance(host, bytes) else host
    return f"http://{name}:{port}"


def serve_until_interrupted(server: Serving) -> None:
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def client_went_away(error: BaseException | None) -> bool:
    """A client that closed, reset or stalled its connection: routine for a server (a client
    that timed out and left), not an error to report."""
    return isinstance(error, ConnectionError | TimeoutError)


class QuietHTTPServer(ThreadingHTTPServer):
    """A threading server that says nothing when a client goes away mid-answer; every other
    error is still reported, with its traceback, as socketserver does."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not client_went_away(sys.exc_info()[1]):
            super().handle_error(request, client_address)
