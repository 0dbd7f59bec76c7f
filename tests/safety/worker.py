"""One batchpay worker for the worker proofs: ``api.run`` on a shared (PostgreSQL) ledger
against an emulation server, named by ``--worker``, under a shared rate limit.

``--kill-at N:before|after`` kills the process with SIGKILL at its Nth request to the
provider, just before it leaves or just after its answer came back: a moment in the
worker's own progress, chosen by the test's seed, never a timer. ``--late S`` runs the
worker's clock S seconds ahead (leases and grace periods expire for it, nobody waits).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from batchpay import api
from batchpay.config import load_settings
from batchpay.emulator.core import SLOT_HEADER, WORKER_HEADER
from batchpay.emulator.keys import EmulatorKeys
from batchpay.errors import BatchpayError
from batchpay.send.ratelimit import taken_slot


class Worker(httpx.HTTPTransport):
    """Names each request with the worker's header and the rate-limit slot it took; kills
    the process at its Nth request (after it, even if the request failed)."""

    def __init__(self, name: str, kill_at: int, when: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name, self.kill_at, self.when = name, kill_at, when
        self.seen = 0
        self._lock = threading.Lock()
        self._last = threading.local()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers[WORKER_HEADER] = self.name
        # a slot serves one acquire; a second request under it (pontis logs in first, in its
        # auth flow) reports the same slot, so the proof counts both in that slot's second
        slot = taken_slot() or getattr(self._last, "slot", 0)
        self._last.slot = slot
        request.headers[SLOT_HEADER] = str(slot)
        with self._lock:
            self.seen += 1
            doomed = self.seen == self.kill_at
        if doomed and self.when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            response = super().handle_request(request)
            if doomed:
                response.read()
        finally:
            if doomed:
                os.kill(os.getpid(), signal.SIGKILL)
        return response


def _late(seconds: float) -> None:
    """Run every engine clock ``seconds`` ahead (leases, grace periods)."""
    import batchpay.send as send

    base = send.Engine

    def ahead() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)

    class Late(base):  # type: ignore[valid-type,misc]
        def __post_init__(self) -> None:
            super().__post_init__()
            self.clock = ahead
            if self.claims is not None:
                self.claims.clock = ahead

    send.Engine = Late  # type: ignore[misc]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sheet", type=Path, required=True)
    parser.add_argument("--provider", required=True)
    parser.add_argument("--batch", default="b")
    parser.add_argument("--ledger", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--grace", type=float, default=3600.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--kill-at", default="")
    parser.add_argument("--late", type=float, default=0.0)
    args = parser.parse_args(argv)
    os.environ["BATCHPAY_WORKER"] = args.worker
    kill_at, _, when = args.kill_at.partition(":")
    transport = Worker(args.worker, int(kill_at or 0), when or "after")
    if args.late:
        _late(args.late)
    settings = load_settings(
        {
            "ledger": args.ledger,
            "report_dir": args.work_dir / "reports",
            "concurrency": args.concurrency,
            "rate_limits": {args.provider: args.rate},
            "grace_seconds": {args.provider: args.grace},
        },
        environ=EmulatorKeys().env(args.base_url),
        cwd=args.work_dir,
    )
    try:
        result = api.run(
            args.sheet, args.provider, args.batch, settings=settings, transport=transport
        )
    except BatchpayError as exc:  # as the CLI does
        print(exc, file=sys.stderr)
        return exc.exit_code
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
