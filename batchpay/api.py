"""The public library: one function per command. The CLI only parses, prints and maps errors.

validate(sheet)                        -> ValidationResult
run(sheet, provider=, batch=)          -> RunResult
status(batch) / retry(batch)           -> RunResult
report(batch)                          -> list of written files
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

# Only what every command needs is imported here. The sheet stages (pandas, pandera), the
# providers (httpx), the engine and the report writers are imported by the functions that
# use them, so `status`, `retry` and `report` never load pandas and `--help` loads none.
from batchpay.config import Settings, load_settings
from batchpay.errors import SheetRejected, UsageError
from batchpay.gcpause import gc_paused, paused_gc
from batchpay.guard import check_batch_id, check_report_dir, guarded, report_guard
from batchpay.model import RowStatus
from batchpay.problems import Problem, sort_key
from batchpay.report.render import FORMATS
from batchpay.results import RunResult as RunResult  # the results are part of the api
from batchpay.results import ValidationResult as ValidationResult
from batchpay.session import existing_ledger, same_provider

if TYPE_CHECKING:
    import httpx

    from batchpay.ledger import Ledger  # loaded by the commands that open one (SQLAlchemy)
    from batchpay.plan import Plan
    from batchpay.plan.preflight import Check
    from batchpay.providers import Quote
    from batchpay.providers.sandbox import FaultHook
    from batchpay.send import Engine, Progress
    from batchpay.validate import SheetOptions, Validated


@gc_paused
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
    from batchpay.ingest import read_sheet
    from batchpay.jsonout import plan_totals
    from batchpay.plan import make_plan
    from batchpay.report.annotate import write_annotated
    from batchpay.validate import validate_sheet

    settings = settings or load_settings()
    if provider is not None:
        _check_provider(provider)
    loaded = read_sheet(Path(sheet), sheet_name)
    checked = validate_sheet(
        loaded, provider, settings.rounding, options=_sheet_options(settings, options)
    )
    if provider is not None:
        _refuse_unpayable(checked, provider, settings)
    if annotate is not None and checked.problems:
        write_annotated(loaded, checked, annotate)
    plan = make_plan("validate", provider or "-", loaded.name, loaded.sha256, checked.rows)
    return ValidationResult(
        annotate if annotate is not None and checked.problems else None,
        loaded.name,
        provider,
        checked.kind,
        len(checked.rows),
        checked.problems,
        checked.roundings,
        plan_totals(plan),
    )


def _refuse_unpayable(checked: Validated, provider: str, settings: Settings) -> None:
    """Add what the run's preflight refuses for this provider, and drop those rows."""
    from batchpay.validate.payable import load_payable, unpayable

    payable = load_payable(provider, settings.networks.get(provider))
    refused = unpayable(checked.rows, payable)
    if refused:
        checked.problems = sorted([*checked.problems, *refused], key=sort_key)
        bad = {p.row for p in refused}
        checked.rows = [r for r in checked.rows if r.row not in bad]


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
    from batchpay.plan.fees import quote_requests
    from batchpay.session import batch_session

    settings = settings or load_settings()
    _check_provider(provider)
    if not batch.strip():
        raise UsageError("--batch must not be empty")
    options = _sheet_options(settings, options)
    plan, warnings = _plan_sheet(Path(sheet), sheet_name, provider, batch, settings, options)
    if dry_run:
        return _dry_run(plan, settings, options, warnings, transport)
    with batch_session(
        settings, batch, provider=provider, progress=progress, faults=faults, transport=transport
    ) as (ledger, engine):
        # fee quotes may ask the provider: gathered before the claim's transaction
        quotes = (
            {}
            if ledger.plan_digest(batch) == plan.digest
            else quote_requests(plan.items, engine.quote, settings.fee_option, every=False)
        )
        with paused_gc():
            warnings += ledger.claim(
                plan,
                _preflight_check(plan, settings, options, quotes),
                sandbox=engine.provider.is_sandbox,
                rounding=settings.rounding,
                fee_option=settings.fee_option,
            )
        engine.settle()
        engine.send_planned()
        engine.reconcile(trust_clean=True)
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
    from batchpay.session import batch_session

    settings = settings or load_settings()
    deadline = time.monotonic() + wait
    with batch_session(
        settings, batch, progress=progress, faults=faults, transport=transport, role="status"
    ) as (ledger, engine):
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
    from batchpay.plan import preflight
    from batchpay.session import batch_session

    settings = settings or load_settings()
    with batch_session(settings, batch, progress=progress, faults=faults, transport=transport) as (
        ledger,
        engine,
    ):
        engine.settle()
        # rows to retry that another batch has claimed since go to needs_review instead
        failed = engine.retryable()
        recent = ledger.recent_payments(batch, preflight.recent_since()) if failed else []
        for row_key, reason in preflight.claimed_since(failed, recent).items():
            ledger.flag_review(batch, row_key, reason, code="paid_elsewhere")
        # asked again once the rows are marked sending: a run of another batch that
        # claimed them in between is seen here, and one that comes later sees them
        engine.hold = lambda rows: preflight.claimed_since(
            rows, ledger.recent_payments(batch, preflight.recent_since())
        )
        engine.retry_failed()
        engine.reconcile()
        return _finish(ledger, batch, settings, engine)


@gc_paused
def report(
    batch: str, *, settings: Settings | None = None, formats: tuple[str, ...] = FORMATS
) -> list[Path]:
    """Write the report files for a batch from the ledger alone."""
    from batchpay.report.freshness import current_reports

    settings = settings or load_settings()
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        what = f"unknown report format(s): {', '.join(unknown)}" if unknown else "no format given"
        raise UsageError(f"{what}; valid formats: {', '.join(FORMATS)} (comma-separated)")
    check_batch_id(batch)
    check_report_dir(settings.report_dir_for(batch))
    with existing_ledger(settings) as ledger:
        info = ledger.require_batch(batch)
        files, _ = report_guard(
            lambda: current_reports(ledger, info, settings, formats, rewrite=True)
        )
    return files


# -- helpers ------------------------------------------------------------------------------


def _plan_sheet(
    sheet: Path,
    sheet_name: str | None,
    provider: str,
    batch: str,
    settings: Settings,
    options: SheetOptions,
) -> tuple[Plan, list[Problem]]:
    """Read, check and plan a sheet to pay: the plan and its warnings, or SheetRejected."""
    from batchpay.ingest import read_sheet
    from batchpay.plan import make_plan
    from batchpay.providers.sandbox import simulated_outcomes
    from batchpay.validate import validate_sheet

    with paused_gc():
        loaded = read_sheet(sheet, sheet_name)
        checked = validate_sheet(loaded, provider, settings.rounding, options=options)
        if not checked.ok:
            raise SheetRejected("the sheet has errors; nothing was sent", checked.problems)
        plan = make_plan(
            batch, provider, loaded.name, loaded.sha256, checked.rows, checked.roundings
        )
    warnings = [p for p in checked.problems if p.severity == "warning"]
    if provider == "sandbox":  # say which rows the sandbox will not simply complete
        warnings += simulated_outcomes((i.payout.row, i.payout.amount) for i in plan.items)
    return plan, warnings


def _preflight_check(
    plan: Plan, settings: Settings, options: SheetOptions, quotes: Mapping[str, Quote]
) -> Check:
    """The run's and the dry run's one check before sending (batchpay.plan.preflight),
    against a ledger view: raises SheetRejected on any error, else returns the warnings."""
    from batchpay.plan.preflight import preflight, refuse
    from batchpay.validate.payable import load_payable

    payable = load_payable(plan.provider, settings.networks.get(plan.provider))
    allowed = options.allow_duplicates
    return lambda view: refuse(
        preflight(plan, view, allow_duplicates=allowed, payable=payable, quotes=quotes)
    )


def _sheet_options(settings: Settings, options: SheetOptions | None) -> SheetOptions:
    from batchpay.validate import SheetOptions

    options = options or SheetOptions()
    return dataclasses.replace(
        options,
        locale=options.locale or settings.locale,
        max_amounts={**settings.max_amounts, **options.max_amounts},
    )


def _check_provider(provider: str) -> None:
    from batchpay.providers import check_provider_name

    check_provider_name(provider)


@gc_paused
def _finish(ledger: Ledger, batch: str, settings: Settings, engine: Engine) -> RunResult:
    """Summarise the batch and rewrite its report files, unless they already show this
    ledger state (a resume that changed nothing leaves the accountant's files untouched)."""
    from batchpay.report.freshness import current_reports

    info = ledger.require_batch(batch)
    files, summary = current_reports(ledger, info, settings)
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


def _dry_run(
    plan: Plan,
    settings: Settings,
    options: SheetOptions,
    warnings: list[Problem],
    transport: httpx.BaseTransport | None,
) -> RunResult:
    """Plan, quote and check exactly as the run would, without writing anything: no ledger
    rows, no sandbox state."""
    from batchpay.plan.preflight import LedgerView
    from batchpay.send.quotes import dry_run_quotes

    quotes, sandbox = dry_run_quotes(plan, settings, transport)
    check = _preflight_check(plan, settings, options, quotes)
    if settings.ledger.exists():
        from batchpay.ledger import Ledger

        with Ledger(settings.ledger, create=False) as ledger:
            same_provider(ledger, plan.batch, plan.provider)
            found = check(ledger.view(plan))
    else:
        found = check(LedgerView(existing={}))
    return RunResult(
        plan.batch,
        plan.provider,
        sandbox,
        dry_run=True,
        plan=plan,
        quotes=quotes,
        problems=warnings + found,
    )
