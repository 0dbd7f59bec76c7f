"""Signed-cookie sessions and CSRF tokens.

The cookie holds ``{"user": NAME, "csrf": TOKEN}`` signed (HMAC, itsdangerous) with the
server's secret and stamped with its time: it cannot be forged or altered, and it expires
after ``max_age`` seconds. It is HttpOnly and SameSite=Strict always, and Secure when the
request came over TLS (directly or through a proxy that says ``X-Forwarded-Proto: https``)
or the server was started with ``--secure-cookies``.

A signed-in session also carries a session id that the server keeps while it is live: signing
in makes a new one (a session cookie planted before the log-in never becomes signed in), and
signing out ends it, so a copy of the cookie taken before the log-out signs no one in.
Live ids are kept in memory: restarting ``serve`` signs everyone out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "batchpay_session"
MAX_AGE = 12 * 3600  # seconds a session lasts without a new request


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def same_token(expected: object, given: object) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def over_tls(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


class Sessions:
    """Reads and writes the session cookie."""

    def __init__(self, secret: str, *, secure: bool = False, max_age: int = MAX_AGE) -> None:
        self._codec = URLSafeTimedSerializer(secret, salt="batchpay-web-session")
        self.secure = secure
        self.max_age = max_age
        self._live: dict[str, float] = {}  # session id -> when it was last seen (monotonic)
        self._lock = threading.Lock()

    def begin(self, data: dict[str, Any], user: str) -> None:
        """Make ``data`` a new signed-in session of ``user``: everything before is dropped,
        with a new session id and a new CSRF token."""
        now = time.monotonic()  # float-ok: seconds
        sid = new_token()
        with self._lock:
            self._live = {k: t for k, t in self._live.items() if now - t < self.max_age}
            self._live[sid] = now
        data.clear()
        data.update(user=user, sid=sid, csrf=new_token())

    def end(self, data: dict[str, Any]) -> None:
        """Sign ``data`` out: its session id is no longer live; a new CSRF token."""
        with self._lock:
            self._live.pop(str(data.get("sid")), None)
        data.clear()
        data["csrf"] = new_token()

    def _alive(self, data: dict[str, Any]) -> bool:
        sid = data.get("sid")
        with self._lock:
            if not isinstance(sid, str) or sid not in self._live:
                return False
            self._live[sid] = time.monotonic()  # float-ok
            return True

    def load(self, request: Request) -> dict[str, Any]:
        """The session of ``request`` (a fresh one with a new CSRF token if it has none or
        its cookie is forged, altered, expired or signed out)."""
        raw = request.cookies.get(COOKIE)
        data: dict[str, Any] = {}
        if raw:
            try:
                loaded = self._codec.loads(raw, max_age=self.max_age)
            except BadSignature:
                loaded = None
            if isinstance(loaded, dict):
                data = loaded
        if "user" in data and not self._alive(data):  # signed out, or a server restart
            data = {}
        if not isinstance(data.get("csrf"), str):
            data["csrf"] = new_token()
        return data

    def save(self, request: Request, response: Response, data: dict[str, Any]) -> None:
        response.set_cookie(
            COOKIE,
            self._codec.dumps(data),
            max_age=self.max_age,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.secure or over_tls(request),
        )
