"""Stop starting new payouts when the provider is clearly in trouble.

After ``threshold`` answers in a row that say "this provider is failing" (credentials refused,
5xx, unreachable), the breaker opens: no new payout is started, the rows not yet sent stay
``planned``, and the run ends with a clear message. It may close again only after a probe,
and the probe is a status lookup, never a payout.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from batchpay.providers.base import Answer, Disposition

TRANSPORT_TROUBLE = frozenset({"connect_error", "connect_timeout", "pool_timeout"})


def is_trouble(answer: Answer) -> bool:
    if answer.http_status in (401, 403) or (answer.http_status or 0) >= 500:
        return True
    return answer.disposition is Disposition.NOT_SENT and answer.error_code in TRANSPORT_TROUBLE


@dataclass
class CircuitBreaker:
    threshold: int = 5
    failures: int = 0
    reason: str | None = None  # set while open
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def open(self) -> bool:
        return self.reason is not None

    def record(self, answer: Answer) -> None:
        with self._lock:
            if not is_trouble(answer):
                self.failures = 0
                return
            self.failures += 1
            if self.failures >= self.threshold and self.reason is None:
                what = answer.error_code or f"HTTP {answer.http_status}"
                self.reason = (
                    f"stopped sending after {self.failures} provider failures in a "
                    f"row (last: {what}: {answer.error_message or 'no detail'})"
                )

    def close(self) -> None:
        with self._lock:
            self.failures = 0
            self.reason = None
