"""What every HTTP adapter shares: one client, one boundary, one mapping of generic failures.

Provider-specific answers (bodies, status words, error codes) are mapped by each adapter;
everything that means the same at every provider is mapped here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from batchpay.keys import KeyForm
from batchpay.model import RowStatus
from batchpay.providers.base import Answer, Disposition, Listing, Sent
from batchpay.providers.boundary import Failure, Reply, exchange

USER_AGENT = "batchpay/0.1 (+https://github.com/batchpay/batchpay)"


class HttpAdapter:
    name = "http"
    key_form = KeyForm.UUID
    dedupes_by_key = False
    is_sandbox = False
    grace_seconds = 900.0  # float-ok: seconds

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        connect_timeout: float = 5.0,  # float-ok: seconds
        read_timeout: float = 30.0,  # float-ok: seconds
    ) -> None:  # float-ok
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(
            transport=transport, timeout=timeout, headers={"User-Agent": USER_AGENT}
        )

    def close(self) -> None:
        self.client.close()

    def list_payouts(self, sent: Sent | None = None) -> Listing | None:
        return None  # overridden where the provider offers a listing

    def exchange(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Reply | Failure:
        try:
            request = self.client.build_request(
                method,
                self.base_url + path,
                content=body,
                headers=dict(headers or {}),
                params=params,
            )
        except Exception as exc:  # a bad base URL is still a value, not an escape
            return Failure(False, "bad_url", type(exc).__name__)
        return exchange(self.client, request)

    # -- generic mappings -------------------------------------------------------------------

    def answer(self, reply: Reply | Failure, sent: Mapping[str, Any] | None) -> Answer:
        """Map a reply: what means the same everywhere here, the rest by :meth:`read_reply`."""
        if isinstance(reply, Failure):
            return self.failure_answer(reply, sent)
        generic = self.generic_answer(reply, sent)
        return generic if generic is not None else self.read_reply(reply, sent)

    def read_reply(self, reply: Reply, sent: Mapping[str, Any] | None) -> Answer:
        raise NotImplementedError

    def failure_answer(self, failure: Failure, sent: Mapping[str, Any] | None) -> Answer:
        if not failure.sent:
            return Answer(
                RowStatus.PLANNED,
                Disposition.NOT_SENT,
                error_code=failure.code,
                error_message=failure.message,
                request=sent,
            )
        disposition = Disposition.RETRY if self.dedupes_by_key else Disposition.UNKNOWN
        return Answer(
            RowStatus.UNKNOWN,
            disposition,
            error_code=failure.code,
            error_message=failure.message,
            request=sent,
        )

    def generic_answer(self, reply: Reply, sent: Mapping[str, Any] | None) -> Answer | None:
        """The answer for replies that mean the same at every provider, else None."""
        code = reply.status_code
        view = response_view(reply)
        if code == 429:
            return Answer(
                RowStatus.PLANNED,
                Disposition.NOT_SENT,
                http_status=code,
                retry_after=reply.retry_after,
                error_code="rate_limited",
                error_message="the provider is rate limiting",
                request=sent,
                response=view,
            )
        if code in (401, 403):
            return Answer(
                RowStatus.PLANNED,
                Disposition.OPERATOR,
                http_status=code,
                error_code="unauthorized" if code == 401 else "forbidden",
                error_message=provider_message(reply) or "credentials were refused",
                request=sent,
                response=view,
            )
        if code >= 500:
            disposition = Disposition.RETRY if self.dedupes_by_key else Disposition.UNKNOWN
            return Answer(
                RowStatus.UNKNOWN,
                disposition,
                http_status=code,
                error_code=f"http_{code}",
                error_message="provider error",
                request=sent,
                response=view,
            )
        if 200 <= code < 300 and not reply.json_ok:
            disposition = Disposition.RETRY if self.dedupes_by_key else Disposition.UNKNOWN
            return Answer(
                RowStatus.UNKNOWN,
                disposition,
                http_status=code,
                error_code="invalid_json",
                error_message="the provider answered with a body that is not JSON",
                request=sent,
                response=view,
            )
        return None


def payout_or_unknown(answer: Answer) -> Answer:
    """A lookup either describes a payout (it carries the provider's reference) or could not
    tell: a transport error, 401, 429, 5xx or an answer it cannot read is *unknown*, never
    "failed" (that would let a retry pay again) and never "not found" (a resend)."""
    if answer.provider_ref:
        return answer
    return Answer(
        RowStatus.UNKNOWN,
        Disposition.UNKNOWN,
        http_status=answer.http_status,
        retry_after=answer.retry_after,
        error_code=answer.error_code or "lookup_failed",
        error_message=answer.error_message or "the provider's answer did not describe a payout",
        response=answer.response,
    )


def response_view(reply: Reply) -> dict[str, Any]:
    """What is kept of an answer in the ledger: status and parsed body, never headers."""
    if isinstance(reply.data, dict):
        return {"http_status": reply.status_code, "body": reply.data}
    return {
        "http_status": reply.status_code,
        "body_text": reply.body[:200].decode("utf-8", "replace"),
    }


def provider_message(reply: Reply) -> str | None:
    data = reply.data
    if not isinstance(data, dict):
        return None
    for key in ("message", "error_message"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return None
