"""``batchpay webhooks serve``: POST /webhooks/<provider>. Answers 200 once applied (or already
applied), 401 for a bad signature, 400 for a malformed body; nothing else changes anything."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from batchpay.serving import server_url
from batchpay.webhooks import Receiver

MAX_BODY = 256 * 1024


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: Receiver, host: str = "127.0.0.1", port: int = 0) -> None:
        self.receiver = receiver
        self.lock = threading.Lock()  # one ledger writer at a time
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        return server_url(self)


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            self._reply(413, "too large")
            return
        body = self.rfile.read(length)
        parts = self.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "webhooks":
            self._reply(404, "POST /webhooks/<provider>")
            return
        with self.server.lock:
            reply = self.server.receiver.handle(parts[1], dict(self.headers.items()), body)
        self._reply(reply.status, reply.text)

    def _reply(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # headers carry signatures: never log requests
