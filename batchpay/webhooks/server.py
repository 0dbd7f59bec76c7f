"""``batchpay webhooks serve``: POST /webhooks/<provider>, served by uvicorn and Starlette.

It answers 200 once a callback is applied (or was already), 401 for a bad signature, 400 for
a malformed request or body, 413 for a body over 256 KiB, and nothing else changes anything.
:meth:`batchpay.webhooks.Receiver.handle` does the whole job; this module only bounds what
reaches it:

- h11 (uvicorn's HTTP parser) refuses a malformed request line, header or ``Content-Length``
  (``-1``, ``abc``, two different values) with a 400 before the application sees it;
- the body is read in chunks and refused with a 413 as soon as it passes :data:`MAX_BODY`;
- headers are bounded at 16 KiB, connections at :data:`MAX_CONNECTIONS`;
- a request must arrive whole within ``request_timeout`` seconds of the connection opening
  (or of the previous answer on a kept-alive one), and an idle connection is closed after
  :data:`KEEP_ALIVE_SECONDS`. uvicorn has the second timeout but not the first, so
  :class:`_TimedProtocol` adds it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from batchpay.webhooks import Receiver

MAX_BODY = 256 * 1024
MAX_HEADERS = 16 * 1024
MAX_CONNECTIONS = 64
REQUEST_TIMEOUT_SECONDS = 10.0  # float-ok: seconds
KEEP_ALIVE_SECONDS = 5
_CLOSE = {"connection": "close"}
log = logging.getLogger("batchpay.webhooks")


class _TooLarge(Exception):
    pass


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and int(declared) > MAX_BODY:  # h11 has checked it is digits
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _TooLarge
    return bytes(body)


def application(receiver: Receiver) -> Starlette:
    """The ASGI application: one route, calling ``receiver.handle`` one request at a time."""
    lock = threading.Lock()  # one ledger writer at a time

    def apply(provider: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        with lock:
            reply = receiver.handle(provider, headers, body)
        return reply.status, reply.text

    async def callback(request: Request) -> Response:
        try:
            body = await _bounded_body(request)
        except _TooLarge:
            return PlainTextResponse("too large", 413, headers=_CLOSE)
        except ClientDisconnect:
            return PlainTextResponse("", 400, headers=_CLOSE)  # nobody is left to read it
        provider = request.path_params["provider"]
        try:
            status, text = await run_in_threadpool(apply, provider, dict(request.headers), body)
        except Exception as exc:  # one line for the operator, never a traceback
            log.error("webhook for %r failed: %s: %s", provider, type(exc).__name__, exc)
            return PlainTextResponse("internal error", 500)
        return PlainTextResponse(text, status)

    async def elsewhere(request: Request) -> Response:
        return PlainTextResponse("POST /webhooks/<provider>", 404)

    routes = [
        Route("/webhooks/{provider}", callback, methods=["POST"]),
        Route("/{path:path}", elsewhere, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    return Starlette(routes=routes)


class _TimedProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for reading each request whole. Past it, a
    connection still sending its headers gets a 408 and is closed; one still sending its body
    is closed (the application then sees the client gone)."""

    request_timeout = REQUEST_TIMEOUT_SECONDS
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.more_body:
            self._disarm()  # the request is in; the answer is the application's business

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:  # still reading headers
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: 15\r\nconnection: close\r\n\r\nrequest timeout"
            )
        self.transport.close()


def _protocol(timeout: float) -> type[H11Protocol]:  # float-ok: seconds
    return type("TimedProtocol", (_TimedProtocol,), {"request_timeout": timeout})


class WebhookServer:
    """The receiver on a socket bound at construction (so port 0 works and a busy port fails
    early). ``serve_forever`` blocks; ``shutdown`` from another thread stops it."""

    def __init__(
        self,
        receiver: Receiver,
        host: str = "127.0.0.1",
        port: int = 0,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,  # float-ok: seconds
    ) -> None:
        self.receiver = receiver
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(128)
        except OSError:
            self.socket.close()
            raise
        self.server_address: tuple[Any, ...] = self.socket.getsockname()
        config = uvicorn.Config(
            application(receiver),
            http=_protocol(request_timeout),
            lifespan="off",
            log_config=None,
            log_level="error",
            access_log=False,  # headers carry signatures: never log requests
            server_header=False,
            date_header=False,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=int(request_timeout) + 1,
            h11_max_incomplete_event_size=MAX_HEADERS,
        )
        self._server = uvicorn.Server(config)
        self._serving = False
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`, or until SIGINT/SIGTERM in the main thread (uvicorn
        finishes the requests in hand, then lets the signal through)."""
        self._serving = True
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        self._server.should_exit = True
        if self._serving:
            self._stopped.wait()

    def server_close(self) -> None:
        self.socket.close()
