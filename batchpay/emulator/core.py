"""The emulation core: plain requests in, plain responses out, no sockets.

The same core is served two ways: as an ``httpx.MockTransport`` for fast in-process tests, and
over real loopback HTTP by ``batchpay sandbox``. Faults are injected here, so both ways see them.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from batchpay.emulator.signing import to_json


@dataclass(frozen=True)
class EmuRequest:
    method: str
    path: str  # below the provider's prefix, e.g. "/v1/payout"
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    query: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, method: str, path: str, headers: dict[str, str], body: bytes, query_string: str = ""
    ) -> EmuRequest:
        return cls(
            method.upper(),
            path,
            {k.lower(): v for k, v in headers.items()},
            body,
            dict(parse_qsl(query_string)),
        )


@dataclass
class EmuResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # processed, but the connection is cut before the answer is written


def json_response(status: int, data: Any) -> EmuResponse:
    return EmuResponse(status, to_json(data).encode(), {"content-type": "application/json"})


Handler = Callable[[EmuRequest], EmuResponse]

# A client may name itself in this header (the worker proofs do); the emulation only logs it.
WORKER_HEADER = "x-batchpay-worker"
# A client may give the rate-limit slot it took for a request (microseconds since the epoch);
# the emulation only logs it, so a proof can check the slots the clients took.
SLOT_HEADER = "x-batchpay-slot"


class Gate:
    """Holds requests until the test opens it, so a test drives a race by events, never by
    sleeping. ``arrived`` counts the requests held so far; ``done`` those processed after the
    gate opened."""

    def __init__(self) -> None:
        self._opened = threading.Event()
        self._changed = threading.Condition()
        self.arrived = 0
        self.done = 0

    def hold(self, handler: Handler, request: EmuRequest) -> EmuResponse:
        with self._changed:
            self.arrived += 1
            self._changed.notify_all()
        self._opened.wait()
        try:
            return handler(request)
        finally:
            with self._changed:
                self.done += 1
                self._changed.notify_all()

    def open(self) -> None:
        self._opened.set()

    def is_open(self) -> bool:
        return self._opened.is_set()

    def wait_arrived(self, n: int = 1, timeout: float | None = None) -> bool:  # float-ok
        """Block until ``n`` requests are held (``timeout`` only guards a broken test)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.arrived >= n, timeout)

    def wait_done(self, n: int = 1, timeout: float | None = None) -> bool:  # float-ok
        with self._changed:
            return self._changed.wait_for(lambda: self.done >= n, timeout)


class Barrier(Gate):
    """A gate that opens itself once requests from ``workers`` distinct clients (told apart
    by ``WORKER_HEADER``) are held: every client's first request waits until all have made
    one. Its fault (kind "barrier") stops matching once it is open, so the other faults
    apply again."""

    def __init__(self, workers: int) -> None:
        super().__init__()
        self.workers = workers
        self.seen: set[str] = set()

    def hold(self, handler: Handler, request: EmuRequest) -> EmuResponse:
        with self._changed:
            self.seen.add(request.headers.get(WORKER_HEADER, ""))
            if len(self.seen) >= self.workers:
                self.open()
        return super().hold(handler, request)


@dataclass
class Fault:
    """One injected misbehaviour. ``kind``: latency | 5xx_before | 5xx_after | drop_after |
    429 | invalid_json | hold (wait at ``gate`` until the test opens it, then process) |
    barrier (wait at ``gate``, a ``Barrier``, until it opens; then the fault stops matching).
    ``op``: create | lookup | list | login | calc | * . ``after``: how many matching requests
    pass untouched before the fault starts hitting."""

    provider: str
    kind: str
    op: str = "create"
    times: int = 1  # how many requests it hits; -1 for every one
    status: int = 500
    seconds: float = 0.0  # float-ok: latency
    retry_after: str = "1"
    probability: float = 1.0  # float-ok: chance that a matching request is hit
    after: int = 0  # let this many matching requests through first (e.g. fail on page 3)
    gate: Gate | None = None  # with kind "hold": the request waits until the test opens it


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # seeded: a chaos run can be replayed
        self.hits: list[tuple[str, str, str]] = []

    def seed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._rules.append(fault)

    def clear(self) -> None:
        self.open_gates()
        with self._lock:
            self._rules.clear()

    def open_gates(self) -> None:
        with self._lock:
            for rule in self._rules:
                if rule.gate is not None:
                    rule.gate.open()

    def take(self, provider: str, op: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.provider == provider and rule.op in (op, "*") and rule.times != 0:
                    if rule.kind == "barrier" and rule.gate is not None and rule.gate.is_open():
                        continue
                    if rule.after > 0:
                        rule.after -= 1
                        continue
                    if rule.probability < 1 and self._rng.random() >= rule.probability:
                        continue
                    if rule.times > 0:
                        rule.times -= 1
                    self.hits.append((provider, op, rule.kind))
                    return rule
        return None


# An injected 429 says so in this header; a 429 for going over the emulated rate limit does
# not. Clients ignore it; the proofs use it to tell the two apart.
INJECTED = "x-emulator-fault"


def with_faults(
    faults: Faults,
    provider: str,
    op: str,
    handler: Handler,
    request: EmuRequest,
    sleep: Callable[[float], None] = time.sleep,
) -> EmuResponse:
    """Run ``handler`` under whatever fault the plan holds for this provider and operation."""
    return apply_fault(faults.take(provider, op), handler, request, sleep)


def apply_fault(
    fault: Fault | None,
    handler: Handler,
    request: EmuRequest,
    sleep: Callable[[float], None] = time.sleep,
) -> EmuResponse:
    """Run ``handler`` under ``fault`` (None: untouched)."""
    if fault is None:
        return handler(request)
    if fault.kind == "latency":
        sleep(fault.seconds)
        return handler(request)
    if fault.kind in ("hold", "barrier") and fault.gate is not None:
        return fault.gate.hold(handler, request)
    if fault.kind == "5xx_before":
        return EmuResponse(fault.status, b"upstream unavailable")
    if fault.kind == "429":
        return EmuResponse(
            429,
            b'{"error":"too many requests"}',
            {
                "retry-after": fault.retry_after,
                "content-type": "application/json",
                INJECTED: "429",
            },
        )
    response = handler(request)
    if fault.kind == "5xx_after":
        return EmuResponse(fault.status, b"internal error")
    if fault.kind == "drop_after":
        response.drop = True
    elif fault.kind == "invalid_json":
        response.body = b"<html>gateway hiccup</html>"
    return response
