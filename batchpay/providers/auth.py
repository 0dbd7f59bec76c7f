"""How each provider authenticates a request, as ``httpx.Auth`` flows on the adapter's client.

An adapter builds a plain request (method, path, JSON body) and its client's auth signs it on the
way out: OxaPay's ``payout_api_key``, TheDex's ``X-EX-*`` headers, 2328.io's ``project`` and
``sign``, and PontisGlobe's envelope with its JWT log-in and one re-log-in on ``jwt_expired``.
Every credential stays a :class:`~batchpay.config.Secret`; no repr shows one.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

from batchpay.config import Secret
from batchpay.providers import pontis_crypto
from batchpay.providers.wire import b64, hmac_hex

Flow = Generator[httpx.Request, httpx.Response, None]


class MaskedAuth(httpx.Auth):
    """An auth whose repr names only its kind: the credentials it holds never print."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(****)"

    __str__ = __repr__


class OxaPayAuth(MaskedAuth):
    """OxaPay: the payout API key in the ``payout_api_key`` header."""

    def __init__(self, key: Secret) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Flow:
        request.headers["payout_api_key"] = self._key.reveal()
        yield request


class TheDexAuth(MaskedAuth):
    """TheDex: ``X-EX-PAYLOAD`` = base64 of the exact body, ``X-EX-SIGNATURE`` = hex
    HMAC-SHA512 of that text keyed with the secret, and the key in ``X-EX-APIKEY``."""

    requires_request_body = True

    def __init__(self, key: Secret, secret: Secret) -> None:
        self._key = key
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Flow:
        payload = b64(request.content)
        request.headers["X-EX-APIKEY"] = self._key.reveal()
        request.headers["X-EX-PAYLOAD"] = payload
        request.headers["X-EX-SIGNATURE"] = hmac_hex(
            self._secret.reveal().encode(), payload.encode(), "sha512"
        )
        yield request


class Pay2328Auth(MaskedAuth):
    """2328.io: the ``project`` header and ``sign`` = hex HMAC-SHA256 over base64 of the exact
    body (the empty string for a GET)."""

    requires_request_body = True

    def __init__(self, project: Secret, key: Secret) -> None:
        self._project = project
        self._key = key

    def sign(self, body: bytes) -> str:
        return hmac_hex(self._key.reveal().encode(), b64(body).encode(), "sha256")

    def auth_flow(self, request: httpx.Request) -> Flow:
        request.headers["project"] = self._project.reveal()
        request.headers["sign"] = self.sign(request.content)
        yield request


@dataclass
class LoginState:
    """What the last flow on this thread did at log-in (read by the adapter after the send)."""

    in_login: bool = False  # the flow ended while logging in (a transport failure there)
    refused: bool = False  # the log-in answered without a token: the request was not sent


class PontisAuth(MaskedAuth):
    """PontisGlobe: the JSON body becomes ``{"data": blob}`` (AES-256-GCM, fresh IV), signed
    with HMAC-SHA256 over ``timestamp + "." + blob``; ``authorization: Bearer <jwt>`` from a
    log-in made on first use and once more when the provider answers 401 ``jwt_expired``."""

    requires_request_body = True
    requires_response_body = True

    def __init__(
        self,
        api_key: Secret,
        encryption_secret: Secret,
        hmac_secret: Secret,
        email: Secret,
        password: Secret,
        login_url: str,
        clock: Callable[[], float] = time.time,  # float-ok: unix seconds
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._api_key = api_key
        self._enc = encryption_secret
        self._hmac = hmac_secret
        self._email = email
        self._password = password
        self._login_url = login_url
        self._clock = clock
        self._random_bytes = random_bytes
        self._token: Secret | None = None
        self._token_lock = threading.Lock()
        self._local = threading.local()

    def key_problem(self) -> str | None:
        """Why the secrets cannot seal or sign an envelope, or None if they can."""
        for variable, secret in (
            ("BATCHPAY_PONTIS_ENCRYPTION_SECRET", self._enc),
            ("BATCHPAY_PONTIS_HMAC_SECRET", self._hmac),
        ):
            try:
                key = pontis_crypto.key_bytes(secret.reveal())
            except pontis_crypto.EnvelopeError as exc:
                return f"{variable}: {exc}"
            if secret is self._enc and len(key) != 32:
                return f"{variable}: the encryption key must be 32 bytes (AES-256)"
        return None

    def forget(self) -> None:
        """Start this thread's next flow from a clean :class:`LoginState`."""
        self._local.state = LoginState()

    def state(self) -> LoginState:
        """This thread's :class:`LoginState` of its last flow."""
        state = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = LoginState()
        return state

    def seal(self, request: httpx.Request, plaintext: bytes, token: Secret | None) -> httpx.Request:
        """``request`` (its URL, extensions and headers) carrying ``plaintext`` as a signed
        envelope; ``token`` as the bearer, if any."""
        key = pontis_crypto.key_bytes(self._enc.reveal())
        blob = pontis_crypto.encrypt(plaintext, key, self._random_bytes(12))
        timestamp = str(int(self._clock()))
        signature = pontis_crypto.signature(
            pontis_crypto.key_bytes(self._hmac.reveal()), timestamp, blob
        )
        headers = httpx.Headers(request.headers)
        for name in ("content-length", "authorization"):
            headers.pop(name, None)
        headers["x-api-key"] = self._api_key.reveal()
        headers["x-timestamp"] = timestamp
        headers["x-signature"] = signature
        headers["content-type"] = "application/json"
        if token is not None:
            headers["authorization"] = f"Bearer {token.reveal()}"
        return httpx.Request(
            request.method,
            request.url,
            headers=headers,
            content=json.dumps({"data": blob}).encode(),
            extensions=request.extensions,
        )

    def _login_request(self, request: httpx.Request) -> httpx.Request:
        """The log-in, with the client's headers and timeouts of the request it precedes."""
        credentials = {"email": self._email.reveal(), "password": self._password.reveal()}
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length")
        ]
        login = httpx.Request(
            "POST", self._login_url, headers=headers, extensions=request.extensions
        )
        return self.seal(login, json.dumps(credentials).encode(), None)

    def sync_auth_flow(self, request: httpx.Request) -> Flow:
        """:meth:`auth_flow`, closed however the send ends (so a log-in lock is released)."""
        request.read()
        flow = self.auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                response = yield outgoing
                response.read()
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return
        finally:
            flow.close()

    def auth_flow(self, request: httpx.Request) -> Flow:
        state = self._local.state = LoginState()
        plaintext = request.content
        for attempt in range(2):
            with self._token_lock:  # one log-in at a time; released if the send fails
                if self._token is None or attempt == 1:
                    state.in_login = True
                    token = access_token((yield self._login_request(request)))
                    state.in_login = False
                    if token is None:
                        state.refused = True
                        return  # the log-in's answer is the flow's answer
                    self._token = token
                token = self._token
            response = yield self.seal(request, plaintext, token)
            if not (response.status_code == 401 and error_code(response) == "jwt_expired"):
                return


def access_token(response: httpx.Response) -> Secret | None:
    """The JWT of a successful log-in's answer, or None."""
    if response.status_code != 200:
        return None
    try:
        data = json.loads(response.content).get("data")
    except (ValueError, AttributeError):
        return None
    if isinstance(data, dict) and data.get("access_token"):
        return Secret(str(data["access_token"]))
    return None


def error_code(response: httpx.Response) -> str | None:
    """PontisGlobe's ``error.code`` of an answer, or None."""
    try:
        error = json.loads(response.content).get("error")
    except (ValueError, AttributeError):
        return None
    return str(error["code"]) if isinstance(error, dict) and error.get("code") else None
