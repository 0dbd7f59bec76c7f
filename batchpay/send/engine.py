"""The engine's public steps: settle, send, retry, quote, refresh and reconcile one batch.

Its state and shared helpers are in :mod:`batchpay.send.core`, lookups that settle and
refresh in :mod:`batchpay.send.settle`, sending in windows in :mod:`batchpay.send.windows`,
and answers -> ledger outcomes in :mod:`batchpay.send.outcomes`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from batchpay.gcpause import paused_gc
from batchpay.ledger import Doubt, LedgerRow
from batchpay.providers.balances import balances_of
from batchpay.providers.base import Balances, PayoutRequest, Quote
from batchpay.send.lookups import batch_listing
from batchpay.send.settle import Settling
from batchpay.send.windows import Windows
from batchpay.statuses import DEAD, RowStatus


def retryable(rows: list[LedgerRow]) -> list[LedgerRow]:
    """The rows ``retry`` sends: those that failed for good, and those an earlier retry
    left ``planned`` when it stopped before their request left (a refused credential, an
    unreachable provider). A row a stopped *run* left planned is the run's to send."""
    return [r for r in rows if r.status is RowStatus.FAILED or r.attempt_no > 1]


class Engine(Settling, Windows):
    def settle(self, *, send: bool = True) -> None:
        """Resolve every ``sending``/``unknown`` row before anything new is sent.

        ``send=False`` (``status``) only asks: a row the provider provably does not have
        stays ``unknown``, marked ``not_sent``, for ``run`` or ``retry`` to send."""
        for rows in self._share([RowStatus.SENDING, RowStatus.UNKNOWN]):
            resend = self._settle_rows(rows, send=send)
            if resend:
                self._send(resend, new_attempt=False, label="resending after lookup")

    def send_planned(self) -> None:
        for rows in self._share([RowStatus.PLANNED]):
            self._send(rows, new_attempt=False, label="sending")
            if self.breaker.open:
                break  # the rest stay planned (and unclaimed once this worker ends)

    def retry_failed(self, only: Collection[str] | None = None) -> None:
        """Retry the retryable rows (with ``only``: those whose row key is in it)."""
        for rows in self._share([RowStatus.FAILED, RowStatus.PLANNED]):
            chosen = [r for r in retryable(rows) if only is None or r.row_key in only]
            self._send(chosen, new_attempt=True, label="retrying failed rows")
            if self.breaker.open:
                break

    def retryable(self) -> list[LedgerRow]:
        """The rows ``retry`` sends (see :func:`retryable`)."""
        return retryable(self.ledger.rows(self.batch, [RowStatus.FAILED, RowStatus.PLANNED]))

    def balances(self) -> Balances | None:
        """The provider's balances, under the rate limit; None where it has no balance call."""
        return balances_of(self.provider, self._limited)

    def quote(self, request: PayoutRequest) -> Quote | None:
        """The provider's fee quote, under the same rate limit as every other request."""
        return self._limited(lambda: self.provider.quote(request))

    def refresh(self) -> None:
        """Ask the provider about every row that is not final yet."""
        rows = self.ledger.rows(self.batch, [RowStatus.PENDING, RowStatus.PROCESSING])
        if rows:
            self._refresh_rows(rows)
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
            # under the shared rate limit like every other request (one slot per listing)
            listing = self._limited(lambda: batch_listing(self.ledger, self.batch, self.provider))
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
        return self._flag(doubts)

    def _flag(self, doubts: list[Doubt]) -> int:
        """Put in review each row the provider's list doubts; return how many were moved."""
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
