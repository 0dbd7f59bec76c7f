"""Retries inside one attempt: every request that left is an attempt record of its own, with
its try number, in the ledger and in attempts.csv (issue 12, item 7)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest

from batchpay.config import load_settings
from batchpay.emulator import Emulator
from batchpay.ledger import AttemptRecord, Ledger
from batchpay.model import ACCEPTED, RowStatus
from batchpay.plan import make_plan
from batchpay.providers import open_provider
from batchpay.providers.base import Answer, Disposition, Listing, PayoutRequest, Quote, Sent
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.report import build_report, render_attempts
from batchpay.send import Engine, RetryPolicy
from tests.conftest import FixedClock
from tests.providers.test_fault_matrix import KEYED, PROVIDERS, Action, Scripted, _row, respond


def _pay(tmp_path: Path, ledger_url: str, provider: str, script: list[Action]) -> Ledger:
    emulator = Emulator()
    settings = load_settings({"grace_seconds": {provider: 0}}, environ=emulator.env(), cwd=tmp_path)
    ledger = Ledger(ledger_url, clock=FixedClock())
    ledger.save_plan(
        make_plan("b", provider, "s.csv", "", [_row(provider)]),
        sandbox=False,
        rounding="down",
        fee_option="deduct",
    )
    transport = Scripted(emulator.transport(), script)
    Engine(
        ledger=ledger,
        provider=open_provider(provider, settings, transport=transport),
        batch="b",
        retry=RetryPolicy(max_tries=3),
        sleep=lambda seconds: None,
    ).send_planned()
    assert emulator[provider].count() == 1  # one payout, however many requests
    return ledger


def _creates(ledger: Ledger) -> list[AttemptRecord]:
    return [a for a in ledger.attempts("b") if a.action == "create"]


def _csv_tries(ledger: Ledger) -> list[dict[str, str]]:
    text = render_attempts(build_report(ledger, "b"))
    return [r for r in csv.DictReader(io.StringIO(text)) if r["action"] == "create"]


def _passes(request: httpx.Request, inner: httpx.MockTransport) -> httpx.Response:
    return inner.handle_request(request)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_429_then_a_success_leaves_two_records(
    tmp_path: Path, provider: str, ledger_url: str
) -> None:
    ledger = _pay(
        tmp_path, ledger_url, provider, [respond(429, {"error": "slow down"}, {"Retry-After": "1"})]
    )
    first, second = _creates(ledger)
    assert (first.try_no, first.http_status, first.outcome) == (1, 429, "sending")
    assert first.disposition in ("not_sent", "retry")
    assert second.try_no == 2 and second.http_status in (200, 201)
    assert second.outcome in {str(s) for s in ACCEPTED}
    assert first.attempt_no == second.attempt_no == 1
    assert first.idempotency_key == second.idempotency_key
    assert first.finished_at is not None and first.finished_at <= second.started_at
    tries = _csv_tries(ledger)
    assert [(r["attempt"], r["try"], r["http_status"]) for r in tries] == [
        ("1", "1", "429"),
        ("1", "2", second.http_status and str(second.http_status)),
    ]
    report = build_report(ledger, "b")
    assert report.rows[0].attempts == 1  # retries are not new attempts


@pytest.mark.parametrize("provider", sorted(KEYED))
def test_a_5xx_retried_with_the_same_key_leaves_every_request(
    tmp_path: Path, provider: str, ledger_url: str
) -> None:
    ledger = _pay(
        tmp_path, ledger_url, provider, [respond(503), respond(502, "bad gateway"), _passes]
    )
    records = _creates(ledger)
    assert [(a.try_no, a.http_status) for a in records][:2] == [(1, 503), (2, 502)]
    assert records[2].try_no == 3 and records[2].outcome in {str(s) for s in ACCEPTED}
    assert len({a.idempotency_key for a in records}) == 1
    assert [r["try"] for r in _csv_tries(ledger)] == ["1", "2", "3"]


def test_a_refused_connection_then_a_success(tmp_path: Path, ledger_url: str) -> None:
    def refuse(request: httpx.Request, inner: httpx.MockTransport) -> httpx.Response:
        raise httpx.ConnectError("injected", request=request)

    ledger = _pay(tmp_path, ledger_url, "2328io", [refuse])
    first, second = _creates(ledger)
    assert (first.try_no, first.disposition, first.error_code) == (1, "not_sent", "connect_error")
    assert second.try_no == 2 and ledger.rows("b")[0].status is RowStatus.PENDING


class _Scripted:
    """The sandbox behind a script of answers given before it is reached; also checks,
    from a second connection, that the intent was committed before the first request."""

    name = "sandbox"
    dedupes_by_key = True
    is_sandbox = True
    grace_seconds = 0.0  # float-ok: seconds

    def __init__(self, path: str, script: list[Answer | Exception]) -> None:
        self.inner = SandboxProvider(SandboxBank())
        self.key_form = self.inner.key_form
        self.path = path
        self.script = script
        self.seen_before_first: list[tuple[int, str | None]] = []

    def create(self, request: PayoutRequest) -> Answer:
        if not self.seen_before_first:
            with Ledger(self.path) as other:  # SQLite or PostgreSQL: another connection
                self.seen_before_first = [
                    tuple(row)
                    for row in other._db.execute(
                        "SELECT try_no, finished_at FROM attempts WHERE action = 'create'"
                    )
                ]
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        return self.inner.create(request)

    def lookup(self, request: PayoutRequest, provider_ref: str | None) -> Answer | None:
        return self.inner.lookup(request, provider_ref)

    def quote(self, request: PayoutRequest) -> Quote | None:
        return self.inner.quote(request)

    def list_payouts(self, sent: Sent | None = None) -> Listing | None:
        return self.inner.list_payouts(sent)

    def close(self) -> None:
        self.inner.close()


def _engine_run(ledger_url: str, script: list[Answer | Exception]) -> tuple[Ledger, _Scripted]:
    from tests.report.test_report import _row as report_row

    ledger = Ledger(ledger_url, clock=FixedClock())
    ledger.save_plan(
        make_plan("b", "sandbox", "s.csv", "", [report_row(2, "E-1", "5.00", "5.00")]),
        sandbox=True,
        rounding="down",
        fee_option="deduct",
    )
    provider = _Scripted(ledger_url, script)
    Engine(
        ledger=ledger,
        provider=provider,
        batch="b",
        retry=RetryPolicy(max_tries=3),
        sleep=lambda seconds: None,
    ).send_planned()
    return ledger, provider


RATE_LIMITED = Answer(
    RowStatus.UNKNOWN, Disposition.RETRY, http_status=429, error_code="rate_limited"
)


def test_the_intent_is_committed_before_the_first_try_leaves(ledger_url: str) -> None:
    ledger, provider = _engine_run(ledger_url, [RATE_LIMITED])
    assert provider.seen_before_first == [(1, None)]  # try 1, unanswered, already on disk
    assert [(a.try_no, a.http_status) for a in _creates(ledger)] == [(1, 429), (2, 201)]
    assert ledger.rows("b")[0].status is RowStatus.COMPLETED


def test_an_adapter_that_raises_after_a_retry_keeps_both_requests(ledger_url: str) -> None:
    ledger, _ = _engine_run(ledger_url, [RATE_LIMITED, RuntimeError("adapter bug")])
    records = _creates(ledger)
    assert [(a.try_no, a.http_status, a.error_code) for a in records] == [
        (1, 429, "rate_limited"),
        (2, None, "internal_error"),
    ]
    assert records[1].outcome == "unknown" and ledger.rows("b")[0].status is RowStatus.UNKNOWN


def test_the_ledger_writes_each_try_and_the_outcome_on_the_last(ledger_url: str) -> None:
    from batchpay.ledger import Intent, Outcome, Tries, Try
    from batchpay.providers.base import Answer, Disposition

    ledger, _ = _engine_run(ledger_url, [])
    row = ledger.rows("b")[0]
    ledger._db.execute("UPDATE payouts SET status = 'failed'")  # as if failed, for `retry`
    [intent] = ledger.begin("b", [Intent(row.row_key, 2, "k2", request={"key": "k2"})])
    earlier = [
        Try("t1", "t1b", 429, "not_sent", "rate_limited", request={"key": "k2", "n": 1}),
        Try("t2", "t2b", 503, "retry", "server_error"),
    ]
    last = ledger.record_tries("b", {intent: Tries(earlier, "t3")})[intent]
    unanswered = [a for a in _creates(ledger) if a.attempt_no == 2 and a.finished_at is None]
    assert [(a.id, a.try_no) for a in unanswered] == [(last, 3)]  # in flight until finished
    assert ledger.rows("b")[0].status is RowStatus.SENDING
    ledger.finish(
        "b",
        [
            Outcome(
                last,
                row.row_key,
                RowStatus.PENDING,
                "accepted",
                Answer(RowStatus.PENDING, Disposition.ACCEPTED, http_status=201),
            )
        ],
    )
    records = [a for a in _creates(ledger) if a.attempt_no == 2]
    assert [(a.try_no, a.started_at, a.finished_at, a.http_status, a.outcome) for a in records] == [
        (1, records[0].started_at, "t1b", 429, "sending"),
        (2, "t2", "t2b", 503, "sending"),
        (3, "t3", records[2].finished_at, 201, "pending"),
    ]
    assert {a.idempotency_key for a in records} == {"k2"}
    assert ledger.rows("b")[0].status is RowStatus.PENDING
    stored = ledger._db.execute(
        "SELECT request_json FROM attempts WHERE attempt_no = 2 ORDER BY id"
    ).fetchall()
    assert stored == [('{"key": "k2", "n": 1}',), ('{"key": "k2"}',), ('{"key": "k2"}',)]
