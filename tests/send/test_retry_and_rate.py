from __future__ import annotations

import itertools
import random
import threading
from functools import partial

import pytest

from batchpay.model import RowStatus
from batchpay.providers.base import Answer, Disposition
from batchpay.send.ratelimit import RateLimiter
from batchpay.send.retry import RetryPolicy, call_with_retries


def _answers(*dispositions: Disposition, retry_after: float | None = None) -> list[Answer]:
    return [Answer(RowStatus.UNKNOWN, d, retry_after=retry_after) for d in dispositions]


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    script = _answers(Disposition.NOT_SENT, Disposition.NOT_SENT, retry_after=500.0) + _answers(
        Disposition.ACCEPTED
    )
    sleeps: list[float] = []
    policy = RetryPolicy(max_tries=5, base_delay=1, max_delay=4, retry_after_cap=60)
    answer = call_with_retries(lambda: script.pop(0), policy, sleep=sleeps.append)
    assert answer.disposition is Disposition.ACCEPTED
    assert sleeps == [60.0, 60.0]


def test_backoff_is_full_jitter_within_a_capped_exponential() -> None:
    script = _answers(*[Disposition.RETRY] * 6)
    sleeps: list[float] = []
    policy = RetryPolicy(max_tries=6, base_delay=1, max_delay=8, deadline=10_000)
    answer = call_with_retries(
        lambda: script.pop(0), policy, sleep=sleeps.append, rng=random.Random(7)
    )
    assert answer.disposition is Disposition.RETRY  # gave up, returned the last answer
    assert len(sleeps) == 5
    for n, delay in enumerate(sleeps, start=1):
        assert 0 <= delay <= min(8, 2 ** (n - 1))


def test_final_and_unknown_answers_are_never_retried() -> None:
    for disposition in (Disposition.UNKNOWN, Disposition.FINAL, Disposition.OPERATOR):
        script = _answers(disposition, Disposition.ACCEPTED)
        answer = call_with_retries(partial(script.pop, 0), RetryPolicy(), sleep=lambda s: None)
        assert answer.disposition is disposition and len(script) == 1


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_rate_limiter_spaces_requests_evenly_just_under_the_limit() -> None:
    t = FakeTime()
    limiter = RateLimiter(10, clock=t.clock, sleep=t.sleep)
    stamps = []
    for _ in range(21):
        limiter.acquire()
        stamps.append(t.now)
    assert stamps[0] == 0.0
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(stamps)}
    assert gaps == {round(1 / 9.6, 9)}  # 4% under 10 per second, evenly
    assert 20 / stamps[-1] == pytest.approx(9.6)
    before = t.now
    limiter.push_back(5)
    limiter.acquire()
    assert t.now == pytest.approx(before + 5)


def test_zero_rate_means_unlimited() -> None:
    t = FakeTime()
    limiter = RateLimiter(0, clock=t.clock, sleep=t.sleep)
    for _ in range(100):
        limiter.acquire()
    assert t.now == 0.0
