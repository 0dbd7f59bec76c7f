"""Shared by the callback tests: one-row batches against the in-process emulation, signed
callbacks for any payout and status, the provider's book as plain data, and a gate that holds
a create request at the provider until the test lets it go (no sleeps)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from batchpay.config import load_settings
from batchpay.emulator import Emulator
from batchpay.ledger import Ledger
from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import make_plan
from batchpay.providers import open_provider, pontis_crypto
from batchpay.providers.base import map_status
from batchpay.providers.oxapay import STATUSES as OXAPAY
from batchpay.providers.pay2328 import STATUSES as P2328
from batchpay.providers.pontis import STATUSES as PONTIS
from batchpay.providers.tagged import tag_in
from batchpay.providers.thedex import STATUSES as THEDEX
from batchpay.providers.wire import b64
from batchpay.send import Engine, RetryPolicy
from tests.conftest import TRON

PROVIDERS = ("oxapay", "thedex", "pontis", "2328io")
CREATE_PATHS = {
    "oxapay": "/oxapay/v1/payout",
    "thedex": "/thedex/api/v1/payouts/create",
    "pontis": "/pontis/api/v1/payouts/sendPayoutRequest",
    "2328io": "/2328io/api/v1/payout",
}
# the provider's own word for a failed payout, as its emulation and its callbacks write it
FAILED_WIRE: dict[str, Any] = {
    "oxapay": "rejected",
    "thedex": 2,
    "pontis": "failed",
    "2328io": "failed",
}
_FIELDS = {  # provider -> (ref field, status field)
    "oxapay": ("track_id", "status"),
    "thedex": ("id", "status"),
    "pontis": ("transaction_id", "status"),
    "2328io": ("uuid", "status"),
}
DEAD = frozenset({RowStatus.FAILED, RowStatus.CANCELLED})


def payout_row(provider: str, index: int = 0, amount: str = "10.00") -> PayoutRow:
    fiat = provider == "pontis"
    return PayoutRow(
        index + 2,
        f"E-{index}",
        Decimal(amount),
        Decimal(amount),
        Decimal(0),
        "USDT",
        None if fiat else "TRON",
        None if fiat else TRON[index % 4],
        extra=(
            {
                "country_code": "IN",
                "payout_currency": "INR",
                "payment_method": "imps",
                "recipient_name": f"R{index}",
            }
            if fiat
            else {}
        ),
    )


def plan_rows(ledger: Ledger, provider: str, rows: list[PayoutRow]) -> None:
    ledger.save_plan(
        make_plan("b", provider, "s.csv", "", rows),
        sandbox=False,
        rounding="down",
        fee_option="deduct",
    )


class Gate:
    """Serves the emulation in process; when armed, the next create request is processed by
    the provider and then held (the payout exists, its answer has not come back) until
    :meth:`open`."""

    def __init__(self, emulator: Emulator, provider: str) -> None:
        self.emulator = emulator
        self.path = CREATE_PATHS[provider]
        self.inner = emulator.transport()
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._armed = False
        self._lock = threading.Lock()

    def arm(self) -> None:
        self.arrived.clear()
        self.release.clear()
        with self._lock:
            self._armed = True

    def open(self) -> None:
        with self._lock:
            self._armed = False
        self.release.set()

    def wait_arrived(self) -> None:
        assert self.arrived.wait(60), "the create request never reached the provider"

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            with self._lock:
                hold = self._armed and request.url.path == self.path
                if hold:
                    self._armed = False
            if not hold:
                return self.inner.handle_request(request)
            try:
                response = self.inner.handle_request(request)
            finally:
                self.arrived.set()
                assert self.release.wait(60), "the test never released the held request"
            return response

        return httpx.MockTransport(handler)


def engine(ledger: Ledger, provider: str, emulator: Emulator, gate: Gate | None = None) -> Engine:
    settings = load_settings(environ=emulator.env())
    transport = gate.transport() if gate is not None else emulator.transport()
    return Engine(
        ledger=ledger,
        provider=open_provider(provider, settings, transport=transport),
        batch="b",
        concurrency=1,
        retry=RetryPolicy(max_tries=2),
        sleep=lambda s: None,
    )


@contextmanager
def in_thread(
    ledger_path: Path,
    provider: str,
    emulator: Emulator,
    gate: Gate,
    *steps: str,
    make: Callable[[Ledger], Engine] | None = None,
) -> Iterator[None]:
    """Run ``steps`` (Engine method names) in a thread with its own ledger connection; the
    body of the ``with`` runs while the first create is held at the provider (or once the
    steps have ended, if they sent nothing)."""
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with Ledger(ledger_path) as ledger:
                run = make(ledger) if make else engine(ledger, provider, emulator, gate)
                for step in steps:
                    getattr(run, step)()
        except BaseException as exc:  # handed to the test thread
            failures.append(exc)
        finally:  # a step that sent nothing must not leave the test waiting
            gate.arrived.set()

    gate.arm()
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        gate.wait_arrived()
        yield
    finally:
        gate.open()
        thread.join(60)
    assert not thread.is_alive()
    if failures:
        raise failures[0]


@dataclass(frozen=True)
class HeldPayout:
    ref: str
    key: str | None
    wire: Any  # the provider's own status value
    status: RowStatus


def book(emulator: Emulator, provider: str) -> list[HeldPayout]:
    """Every payout the emulated provider holds."""
    ref_field, status_field = _FIELDS[provider]
    held = []
    with emulator[provider].lock:
        for p in emulator[provider].payouts:
            if provider == "2328io":
                key = p["order_id"]
            elif provider == "pontis":
                key = p["idempotency_key"]
            else:
                key = tag_in(str(p["description"]))
            wire = p[status_field]
            held.append(HeldPayout(str(p[ref_field]), key, wire, wire_status(provider, wire)))
    return held


def wire_status(provider: str, wire: Any) -> RowStatus:
    if provider == "thedex":
        return THEDEX.get(int(wire), RowStatus.UNKNOWN)
    table = {"oxapay": OXAPAY, "pontis": PONTIS, "2328io": P2328}[provider]
    return map_status(table, wire)


def set_status(emulator: Emulator, provider: str, ref: str, wire: Any) -> None:
    """Move a payout at the provider, as the provider itself would."""
    ref_field, status_field = _FIELDS[provider]
    with emulator[provider].lock:
        for p in emulator[provider].payouts:
            if str(p[ref_field]) == ref:
                p[status_field] = wire
                return
    raise AssertionError(f"no payout {ref}")


def signed(
    provider: str, ref: str, wire: Any, emulator: Emulator, nonce: str
) -> tuple[dict[str, str], bytes]:
    """A validly signed callback saying payout ``ref`` is ``wire``; ``nonce`` makes each a
    distinct delivery (an event id where the provider sends one, else a distinct body)."""
    keys = emulator.keys
    if provider == "oxapay":
        body = json.dumps(
            {"track_id": ref, "type": "payout", "status": wire, "date": nonce}
        ).encode()
        return {"HMAC": hmac.new(keys.oxapay_key.encode(), body, hashlib.sha512).hexdigest()}, body
    if provider == "thedex":
        body = json.dumps({"id": ref, "status": int(wire), "nonce": nonce}).encode()
        payload = b64(body)
        return {
            "X-EX-APIKEY": keys.thedex_key,
            "X-EX-PAYLOAD": payload,
            "X-EX-SIGNATURE": hmac.new(
                keys.thedex_secret.encode(), payload.encode(), hashlib.sha512
            ).hexdigest(),
        }, body
    if provider == "pontis":
        body = json.dumps({"transaction_id": ref, "status": wire}).encode()
        stamp = str(int(time.time()))
        key = pontis_crypto.key_bytes(keys.pontis_hmac_secret)
        signature = hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return {
            "x-pontis-timestamp": stamp,
            "x-pontis-signature": f"sha256={signature}",
            "x-pontis-event-id": f"evt-{nonce}",
        }, body
    fields = {"uuid": ref, "status": wire, "note": nonce}
    text = json.dumps(fields, separators=(",", ":"))
    sign = hmac.new(keys.key_2328.encode(), b64(text.encode()).encode(), hashlib.sha256).hexdigest()
    return {}, json.dumps({**fields, "sign": sign}, separators=(",", ":")).encode()
