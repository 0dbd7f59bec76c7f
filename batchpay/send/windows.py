"""Sending in windows under the write-ahead rule: every intent of a window is committed in
one transaction (one fsync) before any of its requests leaves; the window is then sent
concurrently under the rate limit and the circuit breaker, and answers are committed in
groups, each with the retried requests of its attempt."""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from batchpay.ledger import Intent, LedgerRow, Outcome
from batchpay.model import RowStatus
from batchpay.providers.base import Answer, Disposition, PayoutRequest
from batchpay.send.breaker import explain, is_trouble
from batchpay.send.core import EngineCore, chunks
from batchpay.send.outcomes import (
    intent_view,
    lease_ran_out,
    outcome,
    paid_elsewhere,
    result,
)
from batchpay.send.retry import TryLog, call_with_retries


class Windows(EngineCore):
    def _send(self, rows: list[LedgerRow], *, new_attempt: bool, label: str) -> None:
        if not rows:
            return
        self.progress.start(label, len(rows))
        pool = ThreadPoolExecutor(self.concurrency)
        try:
            for window in chunks(rows, self._window):
                if self.breaker.open and not self._probe():
                    break  # the rest stay planned
                self._send_window(pool, window, new_attempt)
        except BaseException:
            # Ctrl-C, SIGTERM, a ledger that cannot record: start nothing more and abandon
            # requests in flight, as in a crash; their rows are `sending`, resolved by the next
            # run. An in-process provider (the sandbox) shares this process's database handles,
            # so its calls in flight are let finish before it can be closed.
            pool.shutdown(wait=self.provider.is_sandbox, cancel_futures=True)
            raise
        pool.shutdown()
        if self.breaker.open and self.stopped is None:
            waiting = [RowStatus.PLANNED] + ([RowStatus.FAILED] if new_attempt else [])
            mine = {r.row_key for r in rows}
            unsent = sum(1 for r in self.ledger.rows(self.batch, waiting) if r.row_key in mine)
            self.stopped = explain(self.provider.name, self.breaker, unsent)
        self.progress.done()

    def _probe(self) -> bool:
        """One status lookup decides whether sending may resume; never a payout. Refused
        credentials are not probed: they stay refused until the operator fixes them."""
        if self.breaker.kind == "credentials":
            return False
        known = [
            r
            for r in self.ledger.rows(
                self.batch, [RowStatus.PENDING, RowStatus.PROCESSING, RowStatus.COMPLETED]
            )
            if r.provider_ref
        ]
        planned = self.ledger.rows(self.batch, [RowStatus.PLANNED])
        # a keyed adapter's lookup without a ref never calls the provider: no probe at all
        row = (
            known[0]
            if known
            else (planned[0] if planned and not self.provider.dedupes_by_key else None)
        )
        if row is None:
            return False
        try:
            probe = self._request(row, max(row.attempt_no, 1))
            # the probe is a request like any other: it takes a slot of the (shared) rate
            answer = self._limited(lambda: self.provider.lookup(probe, row.provider_ref))
        except Exception:
            answer = Answer(RowStatus.UNKNOWN, Disposition.UNKNOWN)
        if answer is not None and (is_trouble(answer) or answer.disposition is Disposition.UNKNOWN):
            return False
        self.breaker.close()
        return True

    def _send_window(
        self, pool: ThreadPoolExecutor, rows: list[LedgerRow], new_attempt: bool
    ) -> None:
        if self.claims is not None:  # renew the leases; a row taken over is not ours to send
            rows = self.claims.hold(rows)
            if not rows:
                return
        requests = [
            self._request(r, r.attempt_no + 1 if new_attempt or r.attempt_no == 0 else r.attempt_no)
            for r in rows
        ]
        intents = [
            Intent(r.row_key, q.attempt, q.key, "create", intent_view(q))
            for r, q in zip(rows, requests, strict=True)
        ]
        ids = self.ledger.begin(self.batch, intents)  # committed before anything leaves
        held = self.hold(rows) if new_attempt and self.hold is not None else {}
        if held:
            self.ledger.finish(
                self.batch,
                [
                    paid_elsewhere(i, r, held[r.row_key])
                    for r, i in zip(rows, ids, strict=True)
                    if r.row_key in held
                ],
            )
            self.progress.advance(len(held))
        futures: dict[Future[Answer], tuple[LedgerRow, int]] = {
            pool.submit(self._create, q): (r, i)
            for r, q, i in zip(rows, requests, ids, strict=True)
            if r.row_key not in held
        }
        group: list[Outcome] = []
        for future in as_completed(futures):
            row, attempt_id = futures[future]
            group.append(outcome(attempt_id, row, result(future)))
            if group[-1].status is not RowStatus.PLANNED:  # a row left planned was not sent
                self.progress.advance()
            if len(group) >= self.concurrency:
                self._finish_creates(group)
                group = []
        self._finish_creates(group)

    def _finish_creates(self, outcomes: list[Outcome]) -> None:
        """Record answers to creates, and first every retried request of their attempts."""
        with self._count_lock:
            tries = {o.attempt_id: t for o in outcomes if (t := self._tries.pop(o.row_key, None))}
        if tries:
            last = self.ledger.record_tries(self.batch, tries)
            outcomes = [
                dataclasses.replace(o, attempt_id=last[o.attempt_id]) if o.attempt_id in last else o
                for o in outcomes
            ]
        self.ledger.finish(self.batch, outcomes)

    def _create(self, request: PayoutRequest) -> Answer:
        """Send one attempt, retrying with the same key where that is safe; every request
        that leaves is logged, and the retried ones go to the ledger with the outcome
        (see ``_finish_creates``)."""
        log = TryLog(self.ledger.now)

        def once() -> Answer:
            if self.claims is not None and not self.claims.may_send(request.row_key):
                return lease_ran_out(self.claims.worker)
            if self.breaker.open:  # do not start a payout while the provider is failing
                return Answer(
                    RowStatus.PLANNED,
                    Disposition.OPERATOR,
                    error_code="circuit_open",
                    error_message=self.breaker.reason,
                )
            with self._count_lock:
                self.requests += 1
            answer = self._limited(lambda: log.call(lambda: self.provider.create(request)))
            self.breaker.record(answer)
            return answer

        def on_retry(answer: Answer) -> None:
            if answer.retry_after is not None:
                self._limiter.push_back(answer.retry_after)

        answer: Answer | None = None
        try:
            answer = call_with_retries(once, self.retry, sleep=self.sleep, on_retry=on_retry)
            return answer
        finally:  # an adapter that raised has still sent what it sent
            tries = log.tries(answer)
            if tries is not None:
                with self._count_lock:  # a row has one create in flight at a time
                    self._tries[request.row_key] = tries
