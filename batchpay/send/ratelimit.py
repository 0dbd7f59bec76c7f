"""A per-provider request rate, kept exactly: each request gets the next free time slot."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy import Connection

# Run this far under a published limit: a few milliseconds of jitter between taking a slot
# and the request reaching the provider must not put one request too many into its window.
HEADROOM = 0.96

# The slot the shared limiter last gave this thread (microseconds since the epoch), for a
# transport that reports it (the worker proofs log it at the emulation); see ``taken_slot``.
_TAKEN = threading.local()


def taken_slot() -> int:
    """The slot (microseconds since the epoch) ``SharedRateLimiter.acquire`` last gave the
    calling thread, cleared by reading; 0 if none since the last read."""
    slot = int(getattr(_TAKEN, "slot", 0))
    _TAKEN.slot = 0
    return slot


class Limiter(Protocol):
    """What the engine needs of a rate limiter: a slot per request, and a push back on 429."""

    def acquire(self) -> None: ...

    def push_back(self, seconds: float) -> None: ...  # float-ok

    def close(self) -> None: ...


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

    def close(self) -> None:
        pass  # nothing held


class SharedRateLimiter:
    """One provider's rate, held for every worker on every host together, through the ledger
    database (PostgreSQL): the table ``rate_slots`` keeps, per provider, the next free slot in
    microseconds since the epoch, and each request takes it in one short transaction (a single
    ``UPDATE ... RETURNING``, which holds the row's lock until it commits), so two workers never
    take the same slot. Slots are wall-clock times: the hosts' clocks must agree (NTP).

    ``connection`` is a connection of its own (not the ledger's, which the engine's threads
    must not share), used under a lock by this process's threads. A 429's ``Retry-After``
    pushes the shared slot back, so every worker waits, not only the one that was told."""

    def __init__(
        self,
        rate: float,  # float-ok: requests per second
        provider: str,
        connection: Connection,
        clock: Callable[[], float] = time.time,  # float-ok: unix seconds
        sleep: Callable[[float], None] = time.sleep,  # float-ok
    ) -> None:
        from sqlalchemy import text

        self._take, self._push = text(_TAKE), text(_PUSH)
        self._interval = round(1_000_000 / (rate * HEADROOM)) if rate > 0 else 0
        self._provider = provider
        self._db = connection
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        if self._interval:
            with self._lock:
                # a lost slot after a server crash at worst lets one request go early
                self._db.exec_driver_sql("SET synchronous_commit TO off")
                self._db.execute(
                    text(
                        "INSERT INTO rate_slots (provider, next_us) VALUES (:p, 0)"
                        " ON CONFLICT (provider) DO NOTHING"
                    ),
                    {"p": provider},
                )

    def _now(self) -> int:
        return int(self._clock() * 1_000_000)

    def acquire(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._now()
            slot = self._db.execute(
                self._take, {"p": self._provider, "now": now, "i": self._interval}
            )
            taken = int(slot.scalar_one())
        _TAKEN.slot = taken
        if taken > now:
            self._sleep((taken - now) / 1_000_000)

    def push_back(self, seconds: float) -> None:  # float-ok
        """After a 429: no slot, for any worker, before ``seconds`` from now."""
        if not self._interval:
            return
        with self._lock:
            until = self._now() + int(seconds * 1_000_000)
            self._db.execute(self._push, {"p": self._provider, "until": until})

    def close(self) -> None:
        with self._lock:
            self._db.close()


_TAKE = (
    "UPDATE rate_slots SET next_us = GREATEST(next_us, :now) + :i WHERE provider = :p"
    " RETURNING next_us - :i"
)
_PUSH = "UPDATE rate_slots SET next_us = GREATEST(next_us, :until) WHERE provider = :p"
