"""A per-provider request rate, kept exactly: each request gets the next free time slot."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Run this far under a published limit: a few milliseconds of jitter between taking a slot
# and the request reaching the provider must not put one request too many into its window.
HEADROOM = 0.96


class RateLimiter:
    """Spaces calls evenly across threads, just under ``rate`` per second (0: no limit)."""

    def __init__(
        self,
        rate: float,  # float-ok: requests per second
        clock: Callable[[], float] = time.monotonic,  # float-ok
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:  # float-ok
        self._interval = 1.0 / (rate * HEADROOM) if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)

    def push_back(self, seconds: float) -> None:  # float-ok
        """After a 429: no slot before ``seconds`` from now."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)
