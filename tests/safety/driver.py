"""A real batchpay process for the safety tests: runs a batch against an emulation server and,
if told to, kills itself with SIGKILL at the Nth occurrence of a step.

Steps: before_intent (a create intent is about to be committed), after_intent (committed,
request not sent), after_request (the provider answered, nothing recorded), after_outcome
(an answer group was committed).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from batchpay import api
from batchpay.config import load_settings
from batchpay.emulator.keys import EmulatorKeys
from batchpay.errors import BatchpayError
from batchpay.ledger import Intent, Ledger, Outcome
from batchpay.providers.base import Answer, PayoutRequest
from batchpay.send import Engine
from batchpay.send.windows import Windows


def _killer(n: int) -> Callable[[], None]:
    seen = 0

    def maybe_die() -> None:
        nonlocal seen
        seen += 1
        if seen == n:
            os.kill(os.getpid(), signal.SIGKILL)

    return maybe_die


def install(step: str, n: int) -> None:
    die = _killer(n)
    begin, finish, create = Ledger.begin, Ledger.finish, Engine._create

    def creates(intents: list[Intent]) -> bool:
        return any(i.action == "create" for i in intents)

    if step == "before_intent":

        def patched_begin(self: Ledger, batch_id: str, intents: list[Intent]) -> list[int]:
            if creates(intents):
                die()
            return begin(self, batch_id, intents)

        Ledger.begin = patched_begin  # type: ignore[method-assign, assignment]
    elif step == "after_intent":

        def patched_begin_after(self: Ledger, batch_id: str, intents: list[Intent]) -> list[int]:
            ids = begin(self, batch_id, intents)
            if creates(intents):
                die()
            return ids

        Ledger.begin = patched_begin_after  # type: ignore[method-assign, assignment]
    elif step == "after_request":

        def patched_create(self: Windows, request: PayoutRequest) -> Answer:
            answer = create(self, request)
            die()
            return answer

        Engine._create = patched_create  # type: ignore[method-assign]
    elif step == "after_outcome":

        def patched_finish(self: Ledger, batch_id: str, outcomes: list[Outcome]) -> None:
            finish(self, batch_id, outcomes)
            if outcomes:
                die()

        Ledger.finish = patched_finish  # type: ignore[method-assign, assignment]
    else:
        raise SystemExit(f"unknown step {step}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sheet", type=Path, required=True)
    parser.add_argument("--provider", required=True)
    parser.add_argument("--batch", required=True)
    parser.add_argument("--ledger", required=True)  # a file path or a postgresql:// URL
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--crash", default="")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--grace", type=float, default=0.0)
    parser.add_argument("--read-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if args.crash:
        step, n = args.crash.split(":")
        install(step, int(n))
    env = EmulatorKeys().env(args.base_url)
    settings = load_settings(
        {
            "ledger": args.ledger,
            "report_dir": args.sheet.parent / "reports",
            "concurrency": args.concurrency,
            "rate_limits": {args.provider: 0},
            "grace_seconds": {args.provider: args.grace},
            "read_timeout": args.read_timeout,
        },
        environ=env,
        cwd=args.sheet.parent,
    )
    try:
        result = api.run(args.sheet, args.provider, args.batch, settings=settings)
    except BatchpayError as exc:  # as the CLI does
        print(exc, file=sys.stderr)
        return exc.exit_code
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
