"""One worker's share of a batch: the rows it claims, window by window, and its leases.

With a PostgreSQL ledger several workers (processes, on one host or many) work one batch: each
claims windows of rows (:mod:`batchpay.ledger.claims`), so they send disjoint rows. A worker
renews its leases before a window's intents are committed and sends no request once a lease
has run out on its own clock (less a margin for the request to reach the provider), so a
worker that stalls past its lease never sends a row another worker has taken over.

The clock is injected (``clock``): tests move it instead of waiting for a lease to expire.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batchpay.ledger import Ledger, LedgerRow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
from batchpay.statuses import RowStatus

LEASE_SECONDS = 120.0  # float-ok: how long a claimed row stays a worker's without news
MARGIN_SECONDS = 10.0  # float-ok: no request leaves this close to the lease's end
WORKER_VARIABLE = "BATCHPAY_WORKER"


def worker_id(role: str = "worker") -> str:
    """This process's name among the workers: ``BATCHPAY_WORKER`` if set, else the host's
    name. A name outlives restarts: a worker restarted after a crash takes its own rows back
    at once, and one process at a time works a batch under one name (``worker_lock``), so
    two workers on one host need names of their own. ``status`` (``role="status"``) goes by
    a name of its own for each process: it only settles rows whose lease has expired."""
    named = os.environ.get(WORKER_VARIABLE, "").strip() or socket.gethostname()
    return named if role == "worker" else f"{named}/{role}/{os.getpid()}"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


@dataclass
class Claimer:
    """Claims ``batch``'s rows for ``worker`` on ``ledger`` (engine thread only, except
    :meth:`may_send`, which the sending threads call)."""

    ledger: Ledger
    batch: str
    worker: str = field(default_factory=worker_id)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    lease: float = LEASE_SECONDS  # float-ok: seconds
    margin: float = MARGIN_SECONDS  # float-ok: seconds

    # the connection holding this worker's lock on the batch (Leases.worker_lock), if any
    holding: Connection | None = None

    def __post_init__(self) -> None:
        self._until: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()

    def windows(self, statuses: Iterable[RowStatus], size: int) -> Iterator[list[LedgerRow]]:
        """Claim windows of up to ``size`` rows in ``statuses``, in sheet order, until none is
        left that this worker may take. A row is offered once per call (a row that stays
        ``unknown`` after its lookup is not claimed again in the same pass)."""
        wanted = list(statuses)
        after: tuple[int, str] | None = None
        while True:
            now = self.clock()
            until = now + dt.timedelta(seconds=self.lease)
            rows = self.ledger.claim_rows(
                self.batch,
                self.worker,
                wanted,
                now=_iso(now),
                until=_iso(until),
                limit=size,
                after=after,
            )
            if not rows:
                return
            with self._lock:
                self._until.update((r.row_key, until) for r in rows)
            after = (rows[-1].sheet_row, rows[-1].row_key)
            yield rows

    def hold(self, rows: list[LedgerRow]) -> list[LedgerRow]:
        """Renew the leases on ``rows`` before their intents are committed; return the rows
        this worker still holds, in order (the others were taken over: not ours to send)."""
        until = self.clock() + dt.timedelta(seconds=self.lease)
        kept = self.ledger.renew_leases(
            self.batch, self.worker, [r.row_key for r in rows], until=_iso(until)
        )
        with self._lock:
            for row in rows:
                if row.row_key in kept:
                    self._until[row.row_key] = until
                else:
                    self._until.pop(row.row_key, None)
        return [r for r in rows if r.row_key in kept]

    def may_send(self, row_key: str) -> bool:
        """Whether a request for ``row_key`` may still leave: its lease is this worker's and
        has more than the margin left."""
        with self._lock:
            until = self._until.get(row_key)
        if until is None:
            return False
        return self.clock() < until - dt.timedelta(seconds=self.margin)

    def release(self) -> None:
        """Give up every lease this worker holds in the batch, then its lock on the batch."""
        try:
            self.ledger.release_leases(self.batch, self.worker)
            with self._lock:
                self._until.clear()
        finally:
            if self.holding is not None:
                self.holding.close()
                self.holding = None
