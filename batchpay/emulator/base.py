"""What the four emulated providers share: a locked book of payouts, a clock, an optional rate
limit, and a log of every request seen (for the proofs: who asked, when, and what it got)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from batchpay.emulator.core import (
    SLOT_HEADER,
    EmuRequest,
    EmuResponse,
    Faults,
    apply_fault,
)
from batchpay.emulator.core import WORKER_HEADER as WORKER_HEADER
from batchpay.emulator.keys import EmulatorKeys

# What an emulated account holds in a currency nobody configured: more than any test sends.
DEFAULT_BALANCE = Decimal("1000000000")
# The wallets a balance answer always lists: at least every currency of samples/ (an
# account's wallet missing from the answer reads as a zero balance).
LISTED = ("USDT", "USDC", "TRX", "BTC", "ETH", "SOL", "TON", "XRP")
LIMITED = "limited"  # the outcome logged for a 429 given for going over the rate limit


@dataclass(frozen=True)
class Seen:
    """One request as the emulation saw it: ``at`` in unix seconds on the emulation's clock,
    ``op`` (create | lookup | list | login | calc | other), the client's ``worker`` header
    ("" if none), and ``outcome``: "ok", "limited" (a 429 for going over the rate limit)
    or the kind of the fault injected (e.g. "429", "drop_after"); ``slot``: the rate-limit
    slot the client says it took for the request (``SLOT_HEADER``, unix seconds; 0 if none)."""

    at: float  # float-ok: unix seconds
    op: str
    worker: str
    outcome: str
    slot: float = 0.0  # float-ok: unix seconds


def _slot(request: EmuRequest) -> float:  # float-ok: unix seconds
    try:
        return int(request.headers.get(SLOT_HEADER, "0")) / 1_000_000
    except ValueError:
        return 0.0


class EmuProvider:
    name = "emu"
    # requests allowed per ``rate_window`` seconds (None: no limit); counts accepted requests
    rate_limit: int | None = None
    rate_window: float = 1.0  # float-ok: seconds
    # extra requests a window tolerates before "limited" (a token bucket's burst): requests
    # spaced right by the client can arrive bunched when the client's host stalls
    rate_burst: int = 0

    def __init__(
        self,
        keys: EmulatorKeys,
        faults: Faults,
        clock: Callable[[], float] = time.time,  # float-ok: unix seconds
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:  # float-ok
        self.keys = keys
        self.faults = faults
        self.clock = clock
        self.sleep = sleep
        self.lock = threading.RLock()
        self.payouts: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request seen
        # The account's balance per currency before any payout (tests set it; a currency
        # not set holds DEFAULT_BALANCE). What the book's payouts took is subtracted.
        self.balances: dict[str, Decimal] = {}
        self.log: list[Seen] = []
        self.stamps: list[float] = []  # float-ok: accepted request times, for the rate limit
        self.limited = 0  # 429s given for going over the rate limit (never the injected ones)

    def next_id(self) -> int:
        return next(self._ids)

    def handle(self, request: EmuRequest) -> EmuResponse:
        op, handler = self.route(request)
        worker = request.headers.get(WORKER_HEADER, "")
        slot = _slot(request)
        with self.lock:
            self.requests.append((request.method, request.path))
            now = self.clock()
            if self._over_limit(now):
                self.limited += 1
                self.log.append(Seen(now, op, worker, LIMITED, slot))
                return EmuResponse(
                    429,
                    b'{"state":1,"error":"rate limit"}',
                    {"retry-after": "1", "content-type": "application/json"},
                )
            fault = self.faults.take(self.name, op)
            self.log.append(Seen(now, op, worker, fault.kind if fault else "ok", slot))
        return apply_fault(fault, handler, request, self.sleep)

    def _over_limit(self, now: float) -> bool:  # float-ok
        """Whether a request at ``now`` goes over the limit; else it is counted (under lock)."""
        if self.rate_limit is None:
            return False
        start = now - self.rate_window
        self.stamps = [t for t in self.stamps if t > start]
        if len(self.stamps) >= self.rate_limit + self.rate_burst:
            return True
        self.stamps.append(now)
        return False

    def route(self, request: EmuRequest) -> tuple[str, Callable[[EmuRequest], EmuResponse]]:
        raise NotImplementedError

    def preload(self, payouts: list[dict[str, Any]]) -> None:
        """Put payouts straight into the book, as if created earlier (tests with very many)."""
        with self.lock:
            self.payouts.extend(payouts)

    def count(self) -> int:
        with self.lock:
            return len(self.payouts)

    def advance(self, payout: dict[str, Any]) -> None:
        raise NotImplementedError

    def spent(self, payout: dict[str, Any]) -> Decimal:
        """What a payout took from the balance (the book's amount; 0 once it failed)."""
        return Decimal(str(payout.get("amount", "0")))

    def available(self) -> dict[str, Decimal]:
        """currency -> balance now: the starting balance less what the payouts took."""
        with self.lock:
            held = dict.fromkeys(LISTED, DEFAULT_BALANCE)
            held.update(self.balances)
            for payout in self.payouts:
                currency = str(payout.get("currency", ""))
                held[currency] = held.get(currency, DEFAULT_BALANCE) - self.spent(payout)
            return held
