"""The built-in sandbox: an in-process provider, so the main job runs with no credentials and
no network. No money moves; every output that comes from it is labelled SANDBOX.

Its state (the payouts "the provider" holds) lives in a small SQLite file beside the ledger,
so a second run, ``status`` or ``retry`` in a later process sees the same payouts. It behaves
like a provider that deduplicates by idempotency key. An amount written with exactly two
decimals that end in .01 to .04 simulates an outcome, as PontisGlobe's sandbox does with cents;
every other amount (``10.00``, ``7``, ``0.0233``, ``10.010``) completes:

====== ======================================================
 .01   rejected: insufficient funds (wait for the operator)
 .02   accepted, then failed: recipient not found
 .03   accepted and stays pending
 .04   accepted, then failed: network error
 other completed
====== ======================================================
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from batchpay.config import Environment
from batchpay.errors import ConfigError
from batchpay.keys import KeyForm
from batchpay.ledger.location import Location
from batchpay.model import RowStatus
from batchpay.money import MONEY_CONTEXT, ZERO, to_wire
from batchpay.problems import Problem, Severity
from batchpay.providers.balances import sandbox_balance
from batchpay.providers.base import (
    Answer,
    Balances,
    Disposition,
    Listing,
    PayoutRequest,
    Quote,
    Sent,
)
from batchpay.providers.opening import Opening

BALANCE_VAR = "BATCHPAY_SANDBOX_BALANCE"  # e.g. USDT=1000,BTC=0.5: the sandbox's balance
UNLIMITED = Decimal("1000000000")  # the balance of a currency when none is configured

FEES = {
    "USDT": Decimal("1"),
    "USDC": Decimal("1"),
    "TRX": Decimal("1"),
    "BTC": Decimal("0.00001"),
    "ETH": Decimal("0.0002"),
}

# A fault hook for tests: given the action and request, return "drop_before" (never reaches
# the provider), "drop_after" (created, but the answer is lost) or None.
FaultHook = Callable[[str, PayoutRequest], str | None]

_OUTCOMES: dict[int, tuple[RowStatus, str | None, str | None]] = {
    2: (RowStatus.FAILED, "recipient_not_found", "Recipient not found"),
    3: (RowStatus.PENDING, None, None),
    4: (RowStatus.FAILED, "network_error", "Network error"),
}


SIMULATED = {
    1: "rejected: insufficient funds",
    2: "failed: recipient not found",
    3: "stays pending",
    4: "failed: network error",
}


def simulated_cents(amount: Decimal) -> int | None:
    """1 to 4 for an amount written with exactly two decimals ending .01 to .04 (the
    sandbox simulates an outcome for it), None for every other amount (it completes).
    The written form counts: ``10.01`` simulates, ``10.010`` and ``0.0133`` do not."""
    if amount.as_tuple().exponent != -2:
        return None
    code = int(amount.scaleb(2)) % 100
    return code if code in SIMULATED else None


def simulated_outcomes(rows: Iterable[tuple[int, Decimal]]) -> list[Problem]:
    """A warning for each (sheet row, amount) whose amount makes the sandbox simulate an
    outcome other than completed, so the run says why those rows did not complete."""
    problems = []
    for row, amount in rows:
        code = simulated_cents(amount)
        if code is not None:
            problems.append(
                Problem(
                    "sandbox.simulated_outcome",
                    f"sandbox: an amount ending in .{code:02d} simulates an outcome "
                    f"({SIMULATED[code]}); only amounts with exactly two decimals ending "
                    ".01 to .04 do this",
                    row=row,
                    column="amount",
                    value=to_wire(amount),
                    severity=Severity.WARNING,
                )
            )
    return problems


@dataclass(frozen=True)
class SandboxPayout:
    ref: str
    key: str
    amount: Decimal
    currency: str
    address: str | None
    status: RowStatus
    fee: Decimal
    tx_hash: str | None
    error_code: str | None
    error_message: str | None


class SandboxBank:
    """The provider's side of the sandbox."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        target = ":memory:" if path is None else str(path)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS payouts (ref TEXT PRIMARY KEY, key TEXT UNIQUE,"
            " amount TEXT, currency TEXT, address TEXT, status TEXT, fee TEXT, tx_hash TEXT,"
            " error_code TEXT, error_message TEXT, created_at TEXT)"
        )

    def close(self) -> None:
        self._db.close()

    def create(self, request: PayoutRequest) -> tuple[SandboxPayout, bool]:
        """Return the payout for this key, creating it if new; the flag says if it was new."""
        with self._lock:
            existing = self._find(request.key)
            if existing is not None:
                return existing, False
            status, code, message = _OUTCOMES.get(
                simulated_cents(request.amount) or 0, (RowStatus.COMPLETED, None, None)
            )
            ref = "sbx_" + hashlib.sha256(request.key.encode()).hexdigest()[:20]
            tx = hashlib.sha256(ref.encode()).hexdigest() if status is RowStatus.COMPLETED else None
            self._db.execute(
                "INSERT INTO payouts VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    ref,
                    request.key,
                    to_wire(request.amount),
                    request.currency,
                    request.address,
                    status,
                    to_wire(FEES.get(request.currency, ZERO)),
                    tx,
                    code,
                    message,
                    dt.datetime.now(dt.UTC).isoformat(),
                ),
            )
            created = self._find(request.key)
            assert created is not None
            return created, True

    def find(self, key: str) -> SandboxPayout | None:
        with self._lock:
            return self._find(key)

    def get(self, ref: str) -> SandboxPayout | None:
        with self._lock:
            return self._select("ref", ref)

    def all(self) -> list[SandboxPayout]:
        with self._lock:
            return self._payouts("ORDER BY rowid", ())

    def listing(self) -> list[tuple[str, str, str]]:
        """(ref, key, status) of every payout, oldest first."""
        with self._lock:
            return self._db.execute(
                "SELECT ref, key, status FROM payouts ORDER BY rowid"
            ).fetchall()

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM payouts").fetchone()[0])

    def spent(self) -> dict[str, Decimal]:
        """currency -> what the payouts that did not fail took."""
        with self._lock:
            rows = self._db.execute(
                "SELECT currency, amount FROM payouts WHERE status != ?", (RowStatus.FAILED,)
            ).fetchall()
        taken: dict[str, Decimal] = {}
        for currency, amount in rows:
            taken[currency] = MONEY_CONTEXT.add(taken.get(currency, ZERO), Decimal(amount))
        return taken

    def _find(self, key: str) -> SandboxPayout | None:
        return self._select("key", key)

    def _select(self, column: str, value: str) -> SandboxPayout | None:
        found = self._payouts(f"WHERE {column} = ?", (value,))
        return found[0] if found else None

    def _payouts(self, where: str, params: tuple[str, ...]) -> list[SandboxPayout]:
        cursor = self._db.cursor()
        cursor.row_factory = sqlite3.Row  # read by column name
        cursor.execute(
            "SELECT ref, key, amount, currency, address, status, fee, tx_hash, error_code,"
            f" error_message FROM payouts {where}",
            params,
        )
        return [_payout(row) for row in cursor]


def _payout(row: sqlite3.Row) -> SandboxPayout:
    return SandboxPayout(
        **{
            **dict(row),
            "amount": Decimal(row["amount"]),
            "status": RowStatus(row["status"]),
            "fee": Decimal(row["fee"]),
        }
    )


class SandboxProvider:
    name = "sandbox"
    key_form = KeyForm.UUID
    dedupes_by_key = True
    is_sandbox = True
    grace_seconds = 0.0  # float-ok: seconds

    def __init__(
        self,
        bank: SandboxBank,
        faults: FaultHook | None = None,
        balance: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.bank = bank
        self._faults = faults
        self._balance = balance  # BATCHPAY_SANDBOX_BALANCE; None: more than any test sends

    def balances(self) -> Balances:
        """The starting balance (``BATCHPAY_SANDBOX_BALANCE``) less what the payouts took."""
        start = self._balance
        unlisted = UNLIMITED if start is None else ZERO
        taken = self.bank.spent()
        held = {c: (start or {}).get(c, unlisted) for c in {*(start or {}), *taken}}
        for currency, amount in taken.items():
            held[currency] = MONEY_CONTEXT.subtract(held[currency], amount)
        return Balances(held, unlisted=unlisted)

    def create(self, request: PayoutRequest) -> Answer:
        sent = _request_view(request)
        fault = self._faults("create", request) if self._faults else None
        if fault == "drop_before":
            return Answer(
                RowStatus.PLANNED,
                Disposition.NOT_SENT,
                error_code="connect_error",
                error_message="sandbox: connection refused (injected)",
                request=sent,
            )
        if simulated_cents(request.amount) == 1:
            return Answer(
                RowStatus.FAILED,
                Disposition.OPERATOR,
                http_status=422,
                error_code="insufficient_funds",
                error_message="Insufficient funds",
                request=sent,
                response={"error": "insufficient_funds"},
            )
        payout, _ = self.bank.create(request)
        if fault == "drop_after":
            return Answer(
                RowStatus.UNKNOWN,
                Disposition.UNKNOWN,
                error_code="read_timeout",
                error_message="sandbox: answer lost after the payout was created (injected)",
                request=sent,
            )
        return _answer(payout, request.fee_option, sent, http_status=201)

    def lookup(self, request: PayoutRequest, provider_ref: str | None) -> Answer | None:
        payout = self.bank.get(provider_ref) if provider_ref else self.bank.find(request.key)
        return None if payout is None else _answer(payout, request.fee_option, None, 200)

    def list_payouts(self, sent: Sent | None = None) -> Listing | None:
        """What reconciling reads from a listing: key, reference and status of each payout
        (a real provider's list pages carry little more). The bank is local and small: it
        is always listed whole, whatever ``sent`` says."""
        statuses = {str(s): s for s in RowStatus}
        return Listing(
            [
                Answer(
                    status=statuses[status],
                    disposition=Disposition.FINAL
                    if status == RowStatus.FAILED
                    else Disposition.ACCEPTED,
                    provider_ref=ref,
                    key=key,
                    http_status=200,
                )
                for ref, key, status in self.bank.listing()
            ]
        )

    def quote(self, request: PayoutRequest) -> Quote | None:
        return sandbox_quote(request.currency, request.amount, request.fee_option)

    def close(self) -> None:
        self.bank.close()


def sandbox_quote(currency: str, amount: Decimal, fee_option: str) -> Quote:
    fee = FEES.get(currency, ZERO)
    if fee_option == "add":
        return Quote(currency, amount, fee, amount, MONEY_CONTEXT.add(amount, fee))
    return Quote(currency, amount, fee, MONEY_CONTEXT.subtract(amount, fee), amount)


def _answer(
    payout: SandboxPayout, fee_option: str, sent: dict[str, Any] | None, http_status: int
) -> Answer:
    disposition = Disposition.FINAL if payout.status is RowStatus.FAILED else Disposition.ACCEPTED
    return Answer(
        status=payout.status,
        disposition=disposition,
        provider_ref=payout.ref,
        key=payout.key,
        amount=payout.amount,
        address=payout.address,
        fee=payout.fee,
        tx_hash=payout.tx_hash,
        error_code=payout.error_code,
        error_message=payout.error_message,
        http_status=http_status,
        request=sent,
        response={
            "ref": payout.ref,
            "status": str(payout.status),
            "amount": to_wire(payout.amount),
            "fee_option": fee_option,
        },
    )


def _request_view(request: PayoutRequest) -> dict[str, Any]:
    return {
        "key": request.key,
        "amount": to_wire(request.amount),
        "currency": request.currency,
        "network": request.network,
        "address": request.address,
        "memo": request.memo,
    }


def sandbox_state_path(ledger: Location) -> Path:
    """The sandbox's own book, beside the ledger (a database ledger: in the working folder)."""
    suffix = ledger.suffix if isinstance(ledger, Path) else ""
    return ledger.parent / f"{ledger.stem}.sandbox{suffix or '.sqlite'}"


def configured_balance(env: Environment) -> dict[str, Decimal] | None:
    """``BATCHPAY_SANDBOX_BALANCE`` read (None when unset); ConfigError when it is bad."""
    text = env.get(BALANCE_VAR)
    try:
        return sandbox_balance(text)
    except ValueError:
        raise ConfigError(
            f"{BALANCE_VAR} = {text!r} is not allowed; write CURRENCY=AMOUNT pairs separated by "
            "commas, e.g. USDT=1000,BTC=0.5"
        ) from None


def open_adapter(opening: Opening) -> SandboxProvider:
    balance = configured_balance(opening.settings.env)
    bank = SandboxBank(sandbox_state_path(opening.settings.ledger))
    return SandboxProvider(bank, opening.faults, balance)
