"""What the four emulated providers share: a locked book of payouts and a clock."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from batchpay.emulator.core import EmuRequest, EmuResponse, Faults, with_faults
from batchpay.emulator.keys import EmulatorKeys

# What an emulated account holds in a currency nobody configured: more than any test sends.
DEFAULT_BALANCE = Decimal("1000000000")
# The wallets a balance answer always lists: at least every currency of samples/ (an
# account's wallet missing from the answer reads as a zero balance).
LISTED = ("USDT", "USDC", "TRX", "BTC", "ETH", "SOL", "TON", "XRP")


class EmuProvider:
    name = "emu"

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

    def next_id(self) -> int:
        return next(self._ids)

    def handle(self, request: EmuRequest) -> EmuResponse:
        with self.lock:
            self.requests.append((request.method, request.path))
        op, handler = self.route(request)
        return with_faults(self.faults, self.name, op, handler, request, self.sleep)

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
