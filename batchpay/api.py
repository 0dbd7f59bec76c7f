"""The public library: one function per command. The CLI only parses, prints and maps errors.

validate(sheet)                        -> ValidationResult
run(sheet, provider=, batch=)          -> RunResult
status(batch) / retry(batch)           -> RunResult
report(batch)                          -> list of written files
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import httpx

from batchpay.bulk import bulk, paused_gc
from batchpay.config import Settings, load_settings
from batchpay.errors import LedgerError, SheetRejected, UsageError
from batchpay.guard import check_batch_id, check_report_dir, guarded, report_guard, watch
from batchpay.ingest import read_sheet
from batchpay.ledger import BatchInfo, Ledger, LedgerRow, batch_lock
from batchpay.model import Rounding, RowStatus
from batchpay.money import to_wire, total
from batchpay.plan import Plan, PlannedPayout, make_plan
from batchpay.plan.fees import quote_requests
from batchpay.plan.preflight import (
    Check,
    LedgerView,
    left_to_other_batches,
    preflight,
    recent_since,
    refuse,
)
from batchpay.problems import Problem, sort_key
from batchpay.providers import Provider, Quote, open_provider
from batchpay.providers.base import PayoutRequest
from batchpay.providers.sandbox import (
    FaultHook,
    SandboxBank,
    SandboxProvider,
    simulated_outcomes,
)
from batchpay.report import FORMATS, Report, build_report, write_report
from batchpay.report.model import BatchSummary, summary_from_json, summary_json
from batchpay.report.render import file_marks, report_files
from batchpay.send import Engine, Progress
from batchpay.send.ratelimit import RateLimiter
from batchpay.validate import SheetOptions, validate_sheet
from batchpay.validate.annotate import write_annotated
from batchpay.validate.payable import load_payable, unpayable


@dataclass
class ValidationResult:
    annotated: Path | None
    sheet: str
    provider: str | None
    kind: str
    rows: int
    problems: list[Problem]
    roundings: list[Rounding]
    totals: dict[str, dict[str, str]]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def to_json(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "provider": self.provider,
            "kind": self.kind,
            "valid": self.ok,
            "rows": self.rows,
            "counts": {"valid": self.rows},
            "totals": self.totals,
            "roundings": [_rounding_json(r) for r in self.roundings],
            "issues": [p.to_json() for p in self.problems],
            "annotated": str(self.annotated) if self.annotated else None,
        }


@dataclass
class RunResult:
    batch: str
    provider: str
    sandbox: bool
    dry_run: bool = False
    plan: Plan | None = None
    quotes: dict[str, Quote] = field(default_factory=dict)  # row_key -> quote (dry run)
    summary: BatchSummary | None = None
    report_files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # warnings
    requests_sent: int = 0
    stopped: str | None = None  # why sending stopped early (circuit breaker)
    stop_exit: int | None = None  # 2: the provider refused the credentials
    ledger_path: Path | None = None

    @functools.cached_property
    def report(self) -> Report | None:
        """The full reconciliation, read from the ledger when first asked for: a resumed
        100k-row batch that changed nothing needs only the summary."""
        if self.dry_run or self.ledger_path is None:
            return None
        with Ledger(self.ledger_path, create=False) as ledger:
            return build_report(ledger, self.batch)

    @property
    def exit_code(self) -> int:
        if self.stop_exit is not None:
            return self.stop_exit
        if self.dry_run or self.summary is None:
            return 0
        return 0 if self.summary.all_accepted else 3

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "batch": self.batch,
            "provider": self.provider,
            "sandbox": self.sandbox,
            "dry_run": self.dry_run,
        }
        if self.summary is not None:
            data |= {
                "rows": self.summary.rows,
                "counts": {k: v for k, v in self.summary.counts.items() if v},
                "totals": self.summary.totals,
                "as_of": self.summary.as_of,
                "identity_holds": self.summary.identity_holds,
                "report_files": [str(p) for p in self.report_files],
                "requests_sent": self.requests_sent,
                "stopped": self.stopped,
            }
        elif self.plan is not None:
            data |= _plan_json(self.plan, self.quotes)
        data["issues"] = [p.to_json() for p in self.problems]
        return data


@bulk
def validate(
    sheet: Path | str,
    provider: str | None = None,
    *,
    settings: Settings | None = None,
    sheet_name: str | None = None,
    options: SheetOptions | None = None,
    annotate: Path | None = None,
) -> ValidationResult:
    """Check a sheet; with ``annotate``, also write a copy with every problem marked on its cell."""
    settings = settings or load_settings()
    if provider is not None:
        _check_provider(provider)
    loaded = read_sheet(Path(sheet), sheet_name)
    checked = validate_sheet(
        loaded, provider, settings.rounding, options=_sheet_options(settings, options)
    )
    if provider is not None:  # what the run's preflight refuses for this provider
        payable = load_payable(provider, settings.networks.get(provider))
        refused = unpayable(checked.rows, payable)
        if refused:
            checked.problems = sorted([*checked.problems, *refused], key=sort_key)
            bad = {p.row for p in refused}
            checked.rows = [r for r in checked.rows if r.row not in bad]
    if annotate is not None and checked.problems:
        write_annotated(loaded, checked, annotate)
    plan = make_plan("validate", provider or "-", loaded.name, loaded.sha256, checked.rows)
    totals = {
        c: {
            "requested": to_wire(t.requested),
            "to_send": to_wire(t.to_send),
            "rounding_delta": to_wire(t.rounding_delta),
        }
        for c, t in plan.totals().items()
    }
    return ValidationResult(
        annotate if annotate is not None and checked.problems else None,
        loaded.name,
        provider,
        checked.kind,
        len(checked.rows),
        checked.problems,
        checked.roundings,
        totals,
    )


@guarded("run")
def run(
    sheet: Path | str,
    provider: str,
    batch: str,
    *,
    settings: Settings | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    faults: FaultHook | None = None,
    sheet_name: str | None = None,
    transport: httpx.BaseTransport | None = None,
    options: SheetOptions | None = None,
) -> RunResult:
    """Validate, plan and pay a sheet; resume the batch if the ledger already has it."""
    settings = settings or load_settings()
    _check_provider(provider)
    if not batch.strip():
        raise UsageError("--batch must not be empty")
    options = _sheet_options(settings, options)
    with paused_gc():
        loaded = read_sheet(Path(sheet), sheet_name)
        checked = validate_sheet(loaded, provider, settings.rounding, options=options)
        if not checked.ok:
            raise SheetRejected("the sheet has errors; nothing was sent", checked.problems)
        plan = make_plan(
            batch, provider, loaded.name, loaded.sha256, checked.rows, checked.roundings
        )
    warnings = [p for p in checked.problems if p.severity == "warning"]
    if provider == "sandbox":  # say which rows the sandbox will not simply complete
        warnings += simulated_outcomes((i.payout.row, i.payout.amount) for i in plan.items)
    if dry_run:
        return _dry_run(plan, settings, options, warnings, transport)
    with batch_lock(settings.ledger, batch), Ledger(settings.ledger) as ledger:
        _same_provider(ledger, batch, provider)
        provider_obj = open_provider(provider, settings, faults, transport)
        try:
            engine = _engine(ledger, provider_obj, batch, settings, progress)
            # fee quotes may ask the provider: gathered before the claim's transaction
            quotes = (
                {}
                if ledger.plan_digest(batch) == plan.digest
                else quote_requests(plan.items, engine.quote, settings.fee_option, every=False)
            )
            warnings += ledger.claim(
                plan,
                _preflight_check(plan, settings, options, quotes),
                sandbox=provider_obj.is_sandbox,
                rounding=settings.rounding,
                fee_option=settings.fee_option,
            )
            engine.settle()
            engine.send_planned()
            engine.reconcile(trust_clean=True)
        finally:
            provider_obj.close()
        result = _finish(ledger, batch, settings, engine)
    result.problems = warnings
    return result


@guarded("status")
def status(
    batch: str,
    *,
    settings: Settings | None = None,
    wait: float = 0.0,  # float-ok
    progress: Progress | None = None,
    faults: FaultHook | None = None,
    sleep: Callable[[float], None] = time.sleep,  # float-ok
    transport: httpx.BaseTransport | None = None,
) -> RunResult:
    """Resolve unknown rows and refresh every non-final row; optionally wait for final states."""
    settings = settings or load_settings()
    deadline = time.monotonic() + wait
    with batch_lock(settings.ledger, batch), _existing_ledger(settings) as ledger:
        info = ledger.require_batch(batch)
        provider_obj = open_provider(info.provider, settings, faults, transport)
        try:
            engine = _engine(ledger, provider_obj, batch, settings, progress)
            while True:
                engine.settle(send=False)  # only run and retry may create a payout
                engine.refresh()
                open_rows = ledger.rows(
                    batch,
                    [RowStatus.PENDING, RowStatus.PROCESSING, RowStatus.UNKNOWN, RowStatus.SENDING],
                )
                if not open_rows or time.monotonic() >= deadline:
                    break
                sleep(min(5.0, max(0.0, deadline - time.monotonic())))
            engine.reconcile()
        finally:
            provider_obj.close()
        return _finish(ledger, batch, settings, engine)


@guarded("retry")
def retry(
    batch: str,
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
    faults: FaultHook | None = None,
    transport: httpx.BaseTransport | None = None,
) -> RunResult:
    """Send again, as new attempts with new keys, only the rows that failed for good."""
    settings = settings or load_settings()
    with batch_lock(settings.ledger, batch), _existing_ledger(settings) as ledger:
        info = ledger.require_batch(batch)
        provider_obj = open_provider(info.provider, settings, faults, transport)
        try:
            engine = _engine(
                ledger, provider_obj, batch, settings, progress, fee_option=info.fee_option
            )
            engine.settle()
            _leave_to_other_batches(ledger, batch, engine.retryable())
            engine.retry_failed()
            engine.reconcile()
        finally:
            provider_obj.close()
        return _finish(ledger, batch, settings, engine)


@bulk
def report(
    batch: str, *, settings: Settings | None = None, formats: tuple[str, ...] = FORMATS
) -> list[Path]:
    """Write the report files for a batch from the ledger alone."""
    settings = settings or load_settings()
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        what = f"unknown report format(s): {', '.join(unknown)}" if unknown else "no format given"
        raise UsageError(f"{what}; valid formats: {', '.join(FORMATS)} (comma-separated)")
    check_batch_id(batch)
    check_report_dir(settings.report_dir_for(batch))
    with _existing_ledger(settings) as ledger:
        info = ledger.require_batch(batch)
        files, _ = report_guard(lambda: _write_reports(ledger, info, settings, formats))
    return files


# -- helpers ------------------------------------------------------------------------------


def _leave_to_other_batches(ledger: Ledger, batch: str, rows: list[LedgerRow]) -> None:
    """Rows to retry that another batch has claimed since go to needs_review instead."""
    failed = [PlannedPayout(r.row_key, r.as_payout()) for r in rows]
    recent = ledger.recent_payments(batch, recent_since()) if failed else []
    for row_key, reason in left_to_other_batches(failed, recent):
        ledger.flag_review(batch, row_key, reason, code="paid_elsewhere")


def _same_provider(ledger: Ledger, batch: str, provider: str) -> None:
    known = ledger.batch(batch)
    if known is not None and known.provider != provider:
        raise UsageError(
            f"batch {batch!r} was paid through {known.provider}, not {provider}; use a new batch id"
        )


def _preflight_check(
    plan: Plan, settings: Settings, options: SheetOptions, quotes: Mapping[str, Quote]
) -> Check:
    """The run's and the dry run's one check before sending (batchpay.plan.preflight),
    against a ledger view: raises SheetRejected on any error, else returns the warnings."""
    payable = load_payable(plan.provider, settings.networks.get(plan.provider))
    allowed = options.allow_duplicates
    return lambda view: refuse(
        preflight(plan, view, allow_duplicates=allowed, payable=payable, quotes=quotes)
    )


def _sheet_options(settings: Settings, options: SheetOptions | None) -> SheetOptions:
    options = options or SheetOptions()
    return dataclasses.replace(
        options,
        locale=options.locale or settings.locale,
        max_amounts={**settings.max_amounts, **options.max_amounts},
    )


def _check_provider(provider: str) -> None:
    from batchpay.providers import check_provider_name

    check_provider_name(provider)


def _existing_ledger(settings: Settings) -> Ledger:
    if not settings.ledger.exists():
        raise LedgerError(f"no ledger at {settings.ledger}; run a batch first (or pass --ledger)")
    return Ledger(settings.ledger, create=False)


def _engine(
    ledger: Ledger,
    provider: Provider,
    batch: str,
    settings: Settings,
    progress: Progress | None,
    fee_option: str | None = None,
) -> Engine:
    engine = Engine(
        ledger=ledger,
        provider=provider,
        batch=batch,
        concurrency=settings.concurrency,
        rate=settings.rate_limit(provider.name),
        fee_option=fee_option or settings.fee_option,
        progress=progress or Progress(),
    )
    return watch(engine)  # the guard counts the payouts that left


@bulk
def _finish(ledger: Ledger, batch: str, settings: Settings, engine: Engine) -> RunResult:
    """Summarise the batch and rewrite its report files, unless they already show this
    ledger state (a resume that changed nothing leaves the accountant's files untouched)."""
    info = ledger.require_batch(batch)
    directory = settings.report_dir_for(batch)
    files = report_files(directory)
    marks = file_marks(files)
    recorded = ledger.report_stamp(directory)
    current = (_report_stamp(ledger, info, settings), marks)
    if marks is not None and recorded is not None and recorded[:2] == current:
        summary = summary_from_json(recorded[2], info)
    else:
        files, summary = _write_reports(ledger, info, settings, FORMATS)
    return RunResult(
        batch,
        info.provider,
        info.sandbox,
        summary=summary,
        report_files=files,
        requests_sent=engine.requests,
        stopped=engine.stopped,
        ledger_path=ledger.path,
    )


def _write_reports(
    ledger: Ledger, info: BatchInfo, settings: Settings, formats: tuple[str, ...]
) -> tuple[list[Path], BatchSummary]:
    """Write the report files; when all of them are written, record the ledger state they
    show (with their summary) so a later run that changes nothing can leave them alone."""
    stamp = _report_stamp(ledger, info, settings)  # before reading: never newer than it
    built = build_report(ledger, info.batch_id)
    directory = settings.report_dir_for(info.batch_id)
    files = write_report(built, directory, formats, settings.accounts)
    summary = built.summary()
    if set(formats) == set(FORMATS):
        stored = summary_json(summary, ledger, info.batch_id)
        ledger.record_report(directory, stamp, file_marks(files), stored)
    return files, summary


def _version() -> str:
    try:
        return version("batchpay")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "source"


def _report_stamp(ledger: Ledger, info: BatchInfo, settings: Settings) -> str:
    """Everything the report files are made from, except the time of a run that changed
    nothing: the batch's revision, its fixed details, the accounts and batchpay's version."""
    details = dataclasses.asdict(info)
    del details["last_run_at"], details["refreshed_at"]
    material = {
        "revision": ledger.revision(info.batch_id),
        "batch": details,
        "accounts": dict(settings.accounts),
        "version": _version(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _dry_run(
    plan: Plan,
    settings: Settings,
    options: SheetOptions,
    warnings: list[Problem],
    transport: httpx.BaseTransport | None,
) -> RunResult:
    """Plan, quote and check exactly as the run would, without writing anything: no ledger
    rows, no sandbox state."""
    if plan.provider == "sandbox":
        provider: Provider = SandboxProvider(SandboxBank(None))
    else:
        provider = open_provider(plan.provider, settings, transport=transport)
    limiter = RateLimiter(settings.rate_limit(plan.provider))

    def ask(request: PayoutRequest) -> Quote | None:
        limiter.acquire()
        return provider.quote(request)

    try:
        quotes = quote_requests(plan.items, ask, settings.fee_option, every=True)
    finally:
        provider.close()
    check = _preflight_check(plan, settings, options, quotes)
    if settings.ledger.exists():
        with Ledger(settings.ledger, create=False) as ledger:
            _same_provider(ledger, plan.batch, plan.provider)
            found = check(ledger.view(plan))
    else:
        found = check(LedgerView(existing={}))
    return RunResult(
        plan.batch,
        plan.provider,
        provider.is_sandbox,
        dry_run=True,
        plan=plan,
        quotes=quotes,
        problems=warnings + found,
    )


def _rounding_json(r: Rounding) -> dict[str, Any]:
    return {
        "row": r.row,
        "reference": r.reference,
        "currency": r.currency,
        "requested": to_wire(r.requested),
        "rounded": to_wire(r.rounded),
        "delta": to_wire(r.delta),
        "places": r.places,
    }


def _plan_json(plan: Plan, quotes: dict[str, Quote]) -> dict[str, Any]:
    totals: dict[str, dict[str, str]] = {}
    for currency, t in plan.totals().items():
        entry = {
            "requested": to_wire(t.requested),
            "to_send": to_wire(t.to_send),
            "rounding_delta": to_wire(t.rounding_delta),
        }
        mine = [
            quotes[i.row_key]
            for i in plan.items
            if i.payout.currency == currency and i.row_key in quotes
        ]
        if mine:
            entry |= {
                "fees": to_wire(total(q.fee for q in mine)),
                "recipients_get": to_wire(total(q.receives for q in mine)),
                "debited": to_wire(total(q.debited for q in mine)),
            }
        totals[currency] = entry
    return {
        "rows": len(plan.items),
        "counts": {"planned": len(plan.items)},
        "totals": totals,
        "roundings": [_rounding_json(r) for r in plan.roundings],
        "payouts": [
            {
                "row": i.payout.row,
                "reference": i.payout.reference,
                "amount": to_wire(i.payout.amount),
                "currency": i.payout.currency,
                "network": i.payout.network,
                "address": i.payout.address,
                "row_key": i.row_key,
                **(
                    {
                        "fee": to_wire(quotes[i.row_key].fee),
                        "recipient_gets": to_wire(quotes[i.row_key].receives),
                        "debited": to_wire(quotes[i.row_key].debited),
                    }
                    if i.row_key in quotes
                    else {}
                ),
            }
            for i in plan.items
        ],
    }
