"""Stop starting new payouts when the provider is clearly in trouble.

Three kinds of trouble, told apart because the person at the keyboard fixes each differently:

- ``credentials``: the provider refused the credentials (HTTP 401 or 403, a refused login).
  The breaker opens at the *first* such answer: every later request would be refused too.
- ``unreachable``: the connection could not be made (refused, timed out, no route).
- ``failing``: the provider answers 5xx.

After ``threshold`` answers in a row of the last two kinds, the breaker opens. While it is open
no new payout is started, the rows not yet sent stay ``planned``, and the run ends with a clear
message (:func:`explain`). It may close again only after a probe, and the probe is a status
lookup, never a payout; a credentials stop is never probed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from batchpay.providers.base import Answer

TRANSPORT_TROUBLE = frozenset({"connect_error", "connect_timeout", "pool_timeout"})
CREDENTIAL_CODES = frozenset({"unauthorized", "forbidden", "login_failed"})


def trouble_kind(answer: Answer) -> str | None:
    """``credentials``, ``unreachable``, ``failing`` or None (the provider is fine)."""
    if answer.http_status in (401, 403) or answer.error_code in CREDENTIAL_CODES:
        return "credentials"
    if (answer.http_status or 0) >= 500:
        return "failing"
    if answer.error_code in TRANSPORT_TROUBLE:  # never connected: whatever a lookup made of it
        return "unreachable"
    return None


def is_trouble(answer: Answer) -> bool:
    return trouble_kind(answer) is not None


@dataclass
class CircuitBreaker:
    threshold: int = 5
    failures: int = 0
    reason: str | None = None  # set while open
    kind: str | None = None  # the kind of trouble that opened it (see trouble_kind)
    last: Answer | None = None  # the last troubled answer, kept after a probe closes it
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def open(self) -> bool:
        return self.reason is not None

    def record(self, answer: Answer) -> None:
        kind = trouble_kind(answer)
        with self._lock:
            if kind is None:
                self.failures = 0
                return
            self.failures += 1
            self.last = answer
            if self.reason is None and (kind == "credentials" or self.failures >= self.threshold):
                what = answer.error_code or f"HTTP {answer.http_status}"
                self.kind = kind
                self.reason = (
                    f"stopped sending after {self.failures} provider failures in a "
                    f"row (last: {what}: {answer.error_message or 'no detail'})"
                )

    def close(self) -> None:
        with self._lock:
            self.failures = 0
            self.reason = None
            self.kind = None


def explain(provider: str, breaker: CircuitBreaker, unsent: int | None = None) -> str:
    """One sentence for the person at the keyboard: what went wrong, what to check, and how
    many rows are left unsent (``unsent`` None: a command that does not send)."""
    from batchpay.providers import CREDENTIALS_HINT, ENV_PREFIX

    answer = breaker.last
    kind = breaker.kind or (trouble_kind(answer) if answer is not None else None)
    detail = ""
    if answer is not None:
        what = answer.error_code or f"HTTP {answer.http_status}"
        if answer.http_status and answer.error_code:
            what = f"HTTP {answer.http_status} {answer.error_code}"
        detail = f" ({what}: {answer.error_message or 'no detail'})"
    prefix = ENV_PREFIX.get(provider)
    if kind == "credentials":
        names = " and ".join(CREDENTIALS_HINT.get(provider, ())) or "the provider credentials"
        text = f"{provider} refused the credentials{detail}; check {names}"
    elif kind == "unreachable":
        where = f"{prefix}_BASE_URL" if prefix else "the provider's base URL"
        text = f"cannot reach {provider}{detail}; check {where} and the network"
    elif breaker.reason is not None:
        text = f"{provider}: {breaker.reason}"
    else:
        text = f"{provider} answered with errors{detail}"
    if unsent is not None:
        text += f"; {unsent} row(s) not sent"
    return text
