"""The engine's state and the small helpers every step shares: its settings, the rate
limiter, the circuit breaker, and how a ledger row becomes a provider request."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from batchpay.keys import attempt_key
from batchpay.ledger import Ledger, LedgerRow, Tries
from batchpay.model import PayoutDetails
from batchpay.progress import Progress
from batchpay.providers.base import PayoutRequest, Provider
from batchpay.send.breaker import CircuitBreaker
from batchpay.send.claiming import Claimer
from batchpay.send.ratelimit import Limiter, RateLimiter
from batchpay.send.retry import RetryPolicy
from batchpay.statuses import RowStatus

T = TypeVar("T")


@dataclass
class EngineCore:
    ledger: Ledger
    provider: Provider
    batch: str
    concurrency: int = 4
    rate: float = 0.0  # float-ok: requests per second, 0 = unlimited
    fee_option: str = "deduct"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    progress: Progress = field(default_factory=Progress)
    sleep: Callable[[float], None] = time.sleep  # float-ok
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    stopped: str | None = None  # why sending stopped early, for the user
    requests: int = 0  # create requests that left (for tests and benchmarks)
    # retries only: row key -> why not, for rows another batch has claimed, asked after the
    # window's intents are committed and before any request leaves (see api.retry)
    hold: Callable[[list[LedgerRow]], dict[str, str]] | None = None
    # several workers on one batch (PostgreSQL): the rows this worker claims, and the rate
    # limit all workers share; None: this process has the batch to itself (SQLite)
    claims: Claimer | None = None
    limiter: Limiter | None = None

    def __post_init__(self) -> None:
        self._limiter = self.limiter or RateLimiter(self.rate, sleep=self.sleep)
        self._count_lock = threading.Lock()
        self._tries: dict[str, Tries] = {}  # row key -> its retried requests, until finished

    @property
    def _window(self) -> int:
        return max(16, self.concurrency * 8)

    def _share(self, statuses: list[RowStatus]) -> Iterable[list[LedgerRow]]:
        """The rows in ``statuses`` this process works on: all of them at once when it has
        the batch to itself, else window by window as it claims them."""
        if self.claims is not None:
            return self.claims.windows(statuses, self._window)
        rows = self.ledger.rows(self.batch, statuses)
        return [rows] if rows else []

    def _limited(self, call: Callable[[], T]) -> T:
        self._limiter.acquire()
        return call()

    def _request(self, row: LedgerRow, attempt: int) -> PayoutRequest:
        return PayoutRequest(
            row_key=row.row_key,
            attempt=attempt,
            key=attempt_key(row.row_key, attempt, self.provider.key_form),
            fee_option=self.fee_option,
            **PayoutDetails.of(row).as_kwargs(),
        )


def chunks(rows: list[LedgerRow], size: int) -> Iterable[list[LedgerRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
