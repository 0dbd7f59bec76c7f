"""The emulation's request log and its two kinds of 429, which the worker proofs rest on: a
429 for going over the rate limit is logged "limited" and carries no fault header; an
injected 429 is logged "429" and says so in its header. Any provider may have a limit."""

from __future__ import annotations

import httpx

from batchpay.emulator import Emulator, Fault
from batchpay.emulator.base import LIMITED, WORKER_HEADER
from batchpay.emulator.core import INJECTED


def _client(emulator: Emulator) -> httpx.Client:
    return httpx.Client(transport=emulator.transport(), base_url="http://emulator.invalid")


def test_limit_exceeded_and_injected_429s_are_told_apart() -> None:
    now = [1000.0]  # float-ok: the emulation's clock, moved by the test
    emulator = Emulator(clock=lambda: now[0])
    oxapay = emulator["oxapay"]
    oxapay.rate_limit = 2  # two requests a second
    key = {"payout_api_key": emulator.keys.oxapay_key, WORKER_HEADER: "w7"}
    with _client(emulator) as client:
        answers = [client.get("/oxapay/v1/payout", headers=key) for _ in range(3)]
        now[0] += 1.0  # a new second: room again
        emulator.faults.add(Fault("oxapay", "429", op="list", times=1))
        injected, *after = (client.get("/oxapay/v1/payout", headers=key) for _ in range(3))
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert INJECTED not in answers[2].headers
    assert injected.status_code == 429 and injected.headers[INJECTED] == "429"
    # an injected 429 is a request like any other: it takes its place in the second
    assert [a.status_code for a in after] == [200, 429] and INJECTED not in after[1].headers
    assert [(s.op, s.worker, s.outcome) for s in oxapay.log] == [
        ("list", "w7", "ok"),
        ("list", "w7", "ok"),
        ("list", "w7", LIMITED),
        ("list", "w7", "429"),
        ("list", "w7", "ok"),
        ("list", "w7", LIMITED),
    ]
    assert oxapay.limited == 2
    assert [s.at for s in oxapay.log] == [1000.0] * 3 + [1001.0] * 3
