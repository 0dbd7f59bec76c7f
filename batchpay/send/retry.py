"""Retries, only where provably safe: capped exponential backoff with full jitter, Retry-After
honoured up to a cap, an overall deadline, and injectable sleep so tests never really sleep."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt, stop_after_delay

from batchpay.ledger import Tries, Try
from batchpay.providers.base import Answer, Disposition

# NOT_SENT: the provider never saw it. RETRY: the adapter has decided a repeat with the same key
# cannot create a second payout (429, or 5xx at a provider that deduplicates by key).
RETRYABLE = frozenset({Disposition.NOT_SENT, Disposition.RETRY})


@dataclass(frozen=True)
class RetryPolicy:
    max_tries: int = 5
    base_delay: float = 0.5  # float-ok: seconds
    max_delay: float = 30.0  # float-ok: seconds
    retry_after_cap: float = 120.0  # float-ok: seconds
    deadline: float = 300.0  # float-ok: seconds for one request with all its retries


def _wait(policy: RetryPolicy, rng: random.Random) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:  # float-ok: seconds
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (state.attempt_number - 1))
        delay = rng.uniform(0, ceiling)  # full jitter
        answer = state.outcome.result() if state.outcome and not state.outcome.failed else None
        if isinstance(answer, Answer) and answer.retry_after is not None:
            delay = max(delay, min(answer.retry_after, policy.retry_after_cap))
        return delay

    return wait


def call_with_retries(
    call: Callable[[], Answer],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,  # float-ok
    rng: random.Random | None = None,
    on_retry: Callable[[Answer], None] | None = None,
) -> Answer:
    """Run ``call`` until its answer is not retryable or the policy gives up; return the last."""

    def before_sleep(state: RetryCallState) -> None:
        if on_retry and state.outcome and not state.outcome.failed:
            on_retry(state.outcome.result())

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_tries) | stop_after_delay(policy.deadline),
        wait=_wait(policy, rng or random.Random()),
        retry=retry_if_result(lambda a: a.disposition in RETRYABLE),
        sleep=sleep,
        before_sleep=before_sleep,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        reraise=True,
    )
    answer = retrying(call)
    assert isinstance(answer, Answer)
    return answer


class TryLog:
    """Every request of one attempt as it leaves, with when it left and was answered, for
    the audit trail: ``call_with_retries`` keeps only the last answer."""

    def __init__(self, clock: Callable[[], str]) -> None:
        self._clock = clock
        self._sent: list[tuple[Try, Answer | None]] = []  # answer None: the adapter raised

    def call(self, create: Callable[[], Answer]) -> Answer:
        started = self._clock()
        try:
            answer = create()
        except Exception as exc:
            error = f"{type(exc).__name__} in the provider adapter"
            self._sent.append(
                (Try(started, self._clock(), None, "unknown", "internal_error", error), None)
            )
            raise
        self._sent.append((_try(started, self._clock(), answer), answer))
        return answer

    def tries(self, final: Answer | None) -> Tries | None:
        """The requests answered before the one ``final`` came from (None if the adapter
        raised: from the last request), or None when there were none. An answer that came
        without a request (the circuit was open) leaves every request as an earlier one."""
        sent = self._sent
        from_last = bool(sent) and (final is None or sent[-1][1] is final)
        earlier = [t for t, _ in (sent[:-1] if from_last else sent)]
        if not earlier:
            return None
        return Tries(earlier, sent[-1][0].started_at if from_last else None)


def _try(started: str, finished: str, answer: Answer) -> Try:
    return Try(
        started,
        finished,
        answer.http_status,
        str(answer.disposition),
        answer.error_code,
        answer.error_message,
        answer.request,
        answer.response,
        answer.provider_ref,
    )
