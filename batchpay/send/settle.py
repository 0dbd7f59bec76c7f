"""Settle and refresh: ask the provider about rows whose outcome the ledger does not know
yet, under the write-ahead rule (each lookup's intent is committed before it is asked)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from batchpay.ledger import Intent, LedgerRow, Outcome
from batchpay.providers.base import Answer, PayoutRequest
from batchpay.send.core import EngineCore, chunks
from batchpay.send.lookups import look_up, with_send_time
from batchpay.send.outcomes import missing, not_found, outcome


class Settling(EngineCore):
    def _settle_rows(self, rows: list[LedgerRow], *, send: bool) -> list[LedgerRow]:
        """Record what the provider says about ``sending``/``unknown`` rows; return the rows
        it provably does not have, to be sent again with the same key (only if ``send``)."""
        self.progress.start("resolving unknown outcomes", len(rows))
        resend: list[LedgerRow] = []
        outcomes: list[Outcome] = []
        for row, attempt_id, answer in self._lookups(rows):
            self.progress.advance()
            if answer is not None:
                outcomes.append(outcome(attempt_id, row, answer))
                continue
            safe = self._safe_to_resend(row)
            outcomes.append(not_found(attempt_id, row, resend=safe, send=send))
            if safe and send:
                resend.append(row)
        self.ledger.finish(self.batch, outcomes)
        self.progress.done()
        return resend

    def _refresh_rows(self, rows: list[LedgerRow]) -> None:
        self.progress.start("refreshing", len(rows))
        outcomes = [
            missing(attempt_id, row) if answer is None else outcome(attempt_id, row, answer)
            for row, attempt_id, answer in self._advancing(self._lookups(rows))
        ]
        self.ledger.finish(self.batch, outcomes)
        self.progress.done()

    def _advancing(
        self, found: Iterator[tuple[LedgerRow, int, Answer | None]]
    ) -> Iterator[tuple[LedgerRow, int, Answer | None]]:
        for item in found:
            self.progress.advance()
            yield item

    def _lookups(self, rows: list[LedgerRow]) -> Iterator[tuple[LedgerRow, int, Answer | None]]:
        for window in chunks(rows, self._window):
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
