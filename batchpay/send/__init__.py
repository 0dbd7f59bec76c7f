"""Stage 4, send: pay planned rows through a provider, under the write-ahead rule.

Order of work for every command that may send:

1. **settle** rows left ``sending`` or ``unknown`` (a crash, a timeout): look each up at the
   provider; if it is there, record it; if it is provably not there, send it again with the
   *same* key. Nothing is sent while any doubt remains.
2. **send** rows in windows: commit every intent of the window in one transaction (one fsync),
   then send the window concurrently under the rate limit, committing answers in groups.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TypeVar

from batchpay.bulk import paused_gc
from batchpay.ledger import Intent, Ledger, LedgerRow, Outcome, Tries
from batchpay.model import ACCEPTED, FINAL, RowStatus
from batchpay.plan.keys import attempt_key
from batchpay.providers.base import (
    Answer,
    Disposition,
    PayoutRequest,
    Provider,
    Quote,
    same_address,
)
from batchpay.send.breaker import CircuitBreaker, explain, is_trouble
from batchpay.send.lookups import batch_listing, look_up, with_send_time
from batchpay.send.ratelimit import RateLimiter
from batchpay.send.retry import RetryPolicy, TryLog, call_with_retries

__all__ = ["Engine", "NullProgress", "Progress", "RetryPolicy"]

T = TypeVar("T")

DEAD = frozenset({RowStatus.FAILED, RowStatus.CANCELLED})  # payouts that moved no money
NOT_SENT = (
    "the provider has no payout for this row: it was never sent. Run the same `batchpay run`"
    " command again, or `batchpay retry`, to send it"
)


class Progress:
    """Where the engine reports progress; the CLI draws it, the library default is silent."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def done(self) -> None: ...


NullProgress = Progress


@dataclass
class Engine:
    ledger: Ledger
    provider: Provider
    batch: str
    concurrency: int = 4
    rate: float = 0.0  # float-ok: requests per second, 0 = unlimited
    fee_option: str = "deduct"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    progress: Progress = field(default_factory=NullProgress)
    sleep: Callable[[float], None] = time.sleep  # float-ok
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    stopped: str | None = None  # why sending stopped early, for the user
    requests: int = 0  # create requests that left (for tests and benchmarks)

    def __post_init__(self) -> None:
        self._limiter = RateLimiter(self.rate, sleep=self.sleep)
        self._count_lock = threading.Lock()
        self._tries: dict[str, Tries] = {}  # row key -> its retried requests, until finished

    # -- public steps ---------------------------------------------------------------------

    def settle(self, *, send: bool = True) -> None:
        """Resolve every ``sending``/``unknown`` row before anything new is sent.

        ``send=False`` (``status``) only asks: a row the provider provably does not have
        stays ``unknown``, marked ``not_sent``, for ``run`` or ``retry`` to send."""
        rows = self.ledger.rows(self.batch, [RowStatus.SENDING, RowStatus.UNKNOWN])
        if not rows:
            return
        self.progress.start("resolving unknown outcomes", len(rows))
        resend: list[LedgerRow] = []
        outcomes: list[Outcome] = []
        for row, attempt_id, answer in self._lookups(rows):
            self.progress.advance()
            if answer is not None:
                outcomes.append(self._outcome(attempt_id, row, answer))
            elif self._safe_to_resend(row) and not send:
                outcomes.append(
                    Outcome(
                        attempt_id,
                        row.row_key,
                        RowStatus.UNKNOWN,
                        "not_found",
                        error_code="not_sent",
                        error_message=NOT_SENT,
                    )
                )
            elif self._safe_to_resend(row):
                outcomes.append(Outcome(attempt_id, row.row_key, None, "not_found"))
                resend.append(row)
            else:
                outcomes.append(
                    Outcome(
                        attempt_id,
                        row.row_key,
                        RowStatus.UNKNOWN,
                        "not_found",
                        error_code="not_found_yet",
                        error_message="not at the provider yet; run again later to resolve",
                    )
                )
        self.ledger.finish(self.batch, outcomes)
        self.progress.done()
        if resend:
            self._send(resend, new_attempt=False, label="resending after lookup")

    def send_planned(self) -> None:
        self._send(
            self.ledger.rows(self.batch, [RowStatus.PLANNED]), new_attempt=False, label="sending"
        )

    def retry_failed(self) -> None:
        self._send(self.retryable(), new_attempt=True, label="retrying failed rows")

    def retryable(self) -> list[LedgerRow]:
        """The rows ``retry`` sends: those that failed for good, and those an earlier retry
        left ``planned`` when it stopped before their request left (a refused credential, an
        unreachable provider). A row a stopped *run* left planned is the run's to send."""
        rows = self.ledger.rows(self.batch, [RowStatus.FAILED, RowStatus.PLANNED])
        return [r for r in rows if r.status is RowStatus.FAILED or r.attempt_no > 1]

    def quote(self, request: PayoutRequest) -> Quote | None:
        """The provider's fee quote, under the same rate limit as every other request."""
        return self._limited(lambda: self.provider.quote(request))

    def refresh(self) -> None:
        """Ask the provider about every row that is not final yet."""
        rows = self.ledger.rows(self.batch, [RowStatus.PENDING, RowStatus.PROCESSING])
        if rows:
            self.progress.start("refreshing", len(rows))
            outcomes = []
            for row, attempt_id, answer in self._lookups(rows):
                self.progress.advance()
                if answer is None:
                    outcomes.append(
                        Outcome(
                            attempt_id,
                            row.row_key,
                            RowStatus.NEEDS_REVIEW,
                            "not_found",
                            error_code="missing_at_provider",
                            error_message="the provider accepted this payout "
                            "but no longer finds it",
                        )
                    )
                else:
                    outcomes.append(self._outcome(attempt_id, row, answer))
            self.ledger.finish(self.batch, outcomes)
            self.progress.done()
        self.ledger.mark_refreshed(self.batch)

    def reconcile(self, *, trust_clean: bool = False) -> int:
        """Compare the provider's own list with the ledger, both ways; return rows flagged.

        A live payout carrying one of this batch's keys that the ledger does not hold, or two
        live payouts for one row, puts the row in ``needs_review``.

        With ``trust_clean``, a batch whose rows and attempts have not changed since a clean
        listing is not listed again. A listing counts as clean only if it found nothing and
        was taken at least the provider's grace period after the last create request: the
        same period after which the engine believes "not found" when deciding to resend."""
        revision = self.ledger.revision(self.batch)
        if trust_clean and self.ledger.reconciled_revision(self.batch) == revision:
            return 0
        listed_at = self.clock()
        with paused_gc():  # a listing of the whole batch is a bulk read
            listing = batch_listing(self.ledger, self.batch, self.provider)
            if listing is None:
                return 0
            live = (
                (p.key, p.provider_ref) for p in listing.payouts if p.key and p.status not in DEAD
            )
            doubts = self.ledger.doubtful_payouts(self.batch, live)
        if not listing.complete:
            # what is missing from a partial listing proves nothing: never call it clean;
            # a provider that could not be reached at all is explained by the breaker instead
            if not self._troubled():
                self.stopped = self.stopped or (
                    f"reconciliation incomplete: the provider's list could not be read to "
                    f"the end ({listing.reason}); run status again later"
                )
        elif not doubts and self._settled_before(listed_at):
            self.ledger.mark_reconciled(self.batch, revision)
        flagged = 0
        for doubt in doubts:
            if doubt.live > 1:
                refs = ", ".join(doubt.live_refs)
                reason = f"{doubt.live} payouts at the provider for this row ({refs})"
            else:
                reason = (
                    f"the provider holds payout {doubt.live_refs[0]} for this row, "
                    f"which the ledger does not know"
                )
            if doubt.status is not RowStatus.NEEDS_REVIEW:
                self.ledger.flag_review(self.batch, doubt.row_key, reason)
                flagged += 1
        return flagged

    def _troubled(self) -> bool:
        return self.breaker.last is not None and (self.breaker.open or self.breaker.failures > 0)

    def _settled_before(self, moment: dt.datetime) -> bool:
        last = self.ledger.last_create(self.batch)
        if last is None:
            return True
        started = dt.datetime.fromisoformat(last)
        return (moment - started).total_seconds() >= self.provider.grace_seconds

    # -- lookups --------------------------------------------------------------------------

    def _lookups(self, rows: list[LedgerRow]) -> Iterator[tuple[LedgerRow, int, Answer | None]]:
        for window in _chunks(rows, self._window):
            requests = [
                with_send_time(self.ledger, self.batch, self._request(r, r.attempt_no or 1))
                for r in window
            ]
            ids = self.ledger.begin(
                self.batch,
                [
                    Intent(r.row_key, q.attempt, q.key, "lookup", {"provider_ref": r.provider_ref})
                    for r, q in zip(window, requests, strict=True)
                ],
            )
            with ThreadPoolExecutor(self.concurrency) as pool:
                answers = list(pool.map(self._lookup_one, window, requests))
            yield from zip(window, ids, answers, strict=True)

    def _lookup_one(self, row: LedgerRow, request: PayoutRequest) -> Answer | None:
        def call() -> Answer | None:
            answer = self._limited(lambda: self.provider.lookup(request, row.provider_ref))
            if answer is not None:  # refused credentials or a dead provider stop sending too
                self.breaker.record(answer)
            return answer

        return look_up(call)

    def _safe_to_resend(self, row: LedgerRow) -> bool:
        if self.provider.dedupes_by_key:
            return True
        started = [
            a.started_at
            for a in self.ledger.attempts(self.batch, row.row_key)
            if a.action == "create" and a.attempt_no == row.attempt_no
        ]
        if not started:
            return True
        waited = self.clock() - dt.datetime.fromisoformat(max(started))
        return waited.total_seconds() > self.provider.grace_seconds

    # -- sending --------------------------------------------------------------------------

    @property
    def _window(self) -> int:
        return max(16, self.concurrency * 8)

    def _send(self, rows: list[LedgerRow], *, new_attempt: bool, label: str) -> None:
        if not rows:
            return
        self.progress.start(label, len(rows))
        pool = ThreadPoolExecutor(self.concurrency)
        try:
            for window in _chunks(rows, self._window):
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
            answer = self.provider.lookup(
                self._request(row, max(row.attempt_no, 1)), row.provider_ref
            )
        except Exception:
            answer = Answer(RowStatus.UNKNOWN, Disposition.UNKNOWN)
        if answer is not None and (is_trouble(answer) or answer.disposition is Disposition.UNKNOWN):
            return False
        self.breaker.close()
        return True

    def _send_window(
        self, pool: ThreadPoolExecutor, rows: list[LedgerRow], new_attempt: bool
    ) -> None:
        requests = [
            self._request(r, r.attempt_no + 1 if new_attempt or r.attempt_no == 0 else r.attempt_no)
            for r in rows
        ]
        intents = [
            Intent(r.row_key, q.attempt, q.key, "create", _intent_view(q))
            for r, q in zip(rows, requests, strict=True)
        ]
        ids = self.ledger.begin(self.batch, intents)  # committed before anything leaves
        futures: dict[Future[Answer], tuple[LedgerRow, int]] = {
            pool.submit(self._create, q): (r, i)
            for r, q, i in zip(rows, requests, ids, strict=True)
        }
        group: list[Outcome] = []
        for future in as_completed(futures):
            row, attempt_id = futures[future]
            group.append(self._outcome(attempt_id, row, _result(future)))
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

    def _limited(self, call: Callable[[], T]) -> T:
        self._limiter.acquire()
        return call()

    def _request(self, row: LedgerRow, attempt: int) -> PayoutRequest:
        return PayoutRequest(
            row_key=row.row_key,
            attempt=attempt,
            key=attempt_key(row.row_key, attempt, self.provider.key_form),
            reference=row.reference,
            amount=row.amount,
            currency=row.currency,
            network=row.network,
            address=row.address,
            memo=row.memo,
            name=row.name,
            description=row.description,
            extra=row.extra,
            fee_option=self.fee_option,
        )

    # -- answers -> ledger outcomes -------------------------------------------------------

    def _outcome(self, attempt_id: int, row: LedgerRow, answer: Answer) -> Outcome:
        status = answer.status
        error_code, error_message = answer.error_code, answer.error_message
        if answer.disposition is Disposition.NOT_SENT:
            status = RowStatus.PLANNED if row.status is RowStatus.PLANNED else RowStatus.UNKNOWN
        elif answer.disposition is Disposition.RETRY:
            status = RowStatus.UNKNOWN  # retries ran out; the same key resolves it later
        elif status in ACCEPTED or status in FINAL:
            mismatch = _mismatch(row, answer)
            if mismatch:
                status, error_code, error_message = RowStatus.NEEDS_REVIEW, "mismatch", mismatch
        return Outcome(
            attempt_id=attempt_id,
            row_key=row.row_key,
            status=status,
            disposition=str(answer.disposition),
            http_status=answer.http_status,
            response=answer.response,
            request=answer.request,
            error_code=error_code,
            error_message=error_message,
            provider_ref=answer.provider_ref,
            fee=answer.fee,
            amount_sent=row.amount if status in ACCEPTED else None,
            tx_hash=answer.tx_hash,
        )


def _mismatch(row: LedgerRow, answer: Answer) -> str | None:
    if answer.amount is not None and answer.amount != row.amount:
        return f"the provider holds amount {answer.amount}, the ledger {row.amount}"
    if (
        answer.address is not None
        and row.address is not None
        and not same_address(row.address, answer.address)
    ):
        return "the provider holds a different address for this key"
    return None


def _result(future: Future[Answer]) -> Answer:
    """An adapter bug must not lose the outcome: treat it as unknown, resolve later."""
    try:
        return future.result()
    except Exception as exc:
        return Answer(
            RowStatus.UNKNOWN,
            Disposition.UNKNOWN,
            error_code="internal_error",
            error_message=f"{type(exc).__name__} in the provider adapter",
        )


def _intent_view(request: PayoutRequest) -> dict[str, str | None]:
    return {
        "key": request.key,
        "amount": format(request.amount, "f"),
        "currency": request.currency,
        "network": request.network,
        "address": request.address,
        "memo": request.memo,
    }


def _chunks(rows: list[LedgerRow], size: int) -> Iterable[list[LedgerRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
