"""The upload cap: a request body larger than the CLI reads (``batchpay.ingest``'s file size
limit, plus room for the form around it) is refused while it arrives, before it is stored.
What is inside the file (rows, columns, a zip bomb) is refused by the same reader the CLI
uses, when the page validates it."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batchpay.ingest import MAX_FILE_BYTES
from batchpay.web.core import SECURITY_HEADERS, TooLarge

FORM_OVERHEAD = 64 * 1024


def max_body() -> int:
    return MAX_FILE_BYTES + FORM_OVERHEAD


class BodyLimit:
    """ASGI middleware: raise TooLarge from ``receive`` once a body passes ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int | None = None) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit if self.limit is not None else max_body()
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        seen = int(declared) if declared.isdigit() and int(declared) > limit else 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # a declared length over the cap is refused at once
                    raise TooLarge(
                        f"the upload is larger than batchpay reads ({limit // 2**20} MB at most)"
                    )
            return message

        await self.app(scope, counted, send)


class SecurityHeaders:
    """ASGI middleware: every response (the pages, the static files, Starlette's own 404, 405
    and 500) carries :data:`SECURITY_HEADERS` unless it set one itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def headed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                have = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in have:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, headed)
