"""The public library: one function per command. The CLI only parses, prints and maps errors.

validate(sheet)                        -> ValidationResult
run(sheet, provider=, batch=)          -> RunResult
status(batch) / retry(batch)           -> RunResult
report(batch)                          -> list of written files
review(sheet, provider=, batch=)       -> ReviewPack (batchpay.review.api)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

# Only what every command needs is imported here. The sheet stages (pandas, pandera), the
# providers (httpx), the engine and the report writers are imported by the functions that
# use them, so `status`, `retry` and `report` never load pandas and `--help` loads none.
from batchpay.config import Settings, load_settings
from batchpay.errors import UsageError
from batchpay.gcpause import gc_paused, paused_gc
from batchpay.guard import check_batch_id, check_report_dir, guarded, report_guard
from batchpay.model import RowStatus
from batchpay.planning import check_provider, dry_run, plan_sheet, preflight_check, sheet_options
from batchpay.problems import Problem, sort_key
from batchpay.report.render import ALL_FORMATS, FORMATS
from batchpay.results import RunResult as RunResult  # the results are part of the api
from batchpay.results import ValidationResult as ValidationResult
from batchpay.review.api import review as review  # the review pack (issue #14)
from batchpay.session import existing_ledger

# What the sheet commands share lives in batchpay.planning (the review uses it too); kept
# here under the names other modules import.
_check_provider = check_provider
_dry_run = dry_run
_plan_sheet = plan_sheet
_preflight_check = preflight_check
_sheet_options = sheet_options

if TYPE_CHECKING:
    import httpx

    from batchpay.ledger import Ledger  # loaded by the commands that open one (SQLAlchemy)
    from batchpay.plan import Plan
    from batchpay.providers import Quote
    from batchpay.providers.sandbox import FaultHook
    from batchpay.review.confirm import Confirm
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
    sheet: Path | str | None,
    provider: str | None,
    batch: str,
    *,
    settings: Settings | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    faults: FaultHook | None = None,
    sheet_name: str | None = None,
    transport: httpx.BaseTransport | None = None,
    options: SheetOptions | None = None,
    confirm: Confirm | None = None,
) -> RunResult:
    """Validate, plan and pay a sheet, or with none the batch's submitted plan (four eyes:
    approvals.plans); resume the batch if the ledger already has it. ``confirm``: asked
    before the first payout to a live provider (batchpay.review.confirm)."""
    from batchpay.approvals.audit import audit_result, gate_run
    from batchpay.approvals.plans import run_plan
    from batchpay.session import batch_session

    settings = settings or load_settings()
    options = _sheet_options(settings, options)
    plan, warnings, ok = run_plan(sheet, sheet_name, provider, batch, settings, options, dry_run)
    if dry_run:
        return audit_result(
            settings, "plan", _dry_run(plan, settings, options, warnings, transport)
        )
    provider = plan.provider
    with batch_session(
        settings, batch, provider=provider, progress=progress, faults=faults, transport=transport
    ) as (ledger, engine):
        quotes, found = _before_claim(ledger, engine, plan, settings, options, confirm)
        warnings += found
        with paused_gc():
            warnings += ledger.claim(
                plan,
                _preflight_check(plan, settings, options, quotes),
                sandbox=engine.provider.is_sandbox,
                rounding=settings.rounding,
                fee_option=settings.fee_option,
            )
        if ok is not None:  # four eyes: what is sent from is the approved plan
            ok = gate_run(settings, ledger, batch, engine.fee_option)
        engine.settle()
        engine.send_planned()
        engine.reconcile(trust_clean=True)
        result = audit_result(settings, "run", _finish(ledger, batch, settings, engine), ok)
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
    from batchpay.approvals.audit import audit_result
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
        return audit_result(settings, "status", _finish(ledger, batch, settings, engine))


@guarded("retry")
def retry(
    batch: str,
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
    faults: FaultHook | None = None,
    transport: httpx.BaseTransport | None = None,
    only: Collection[str] | None = None,
) -> RunResult:
    """Send again, as new attempts with new keys, only the rows that failed for good (with an
    approvers file, only a batch whose rows are the approved plan: else ApprovalError; with
    ``only``: those of them whose row key is in it, the web app's "retry selected")."""
    from batchpay.approvals.audit import audit_result
    from batchpay.approvals.policy import gate_batch
    from batchpay.plan import PlannedPayout, preflight
    from batchpay.send.balance import gate
    from batchpay.session import batch_session

    settings = settings or load_settings()
    with batch_session(settings, batch, progress=progress, faults=faults, transport=transport) as (
        ledger,
        engine,
    ):
        approved = gate_batch(settings, ledger, batch)  # four eyes: before anything is sent
        engine.settle()
        # rows to retry that another batch has claimed since go to needs_review instead
        failed = [r for r in engine.retryable() if only is None or r.row_key in only]
        recent = ledger.recent_payments(batch, preflight.recent_since()) if failed else []
        claimed = preflight.claimed_since(failed, recent)
        items = [
            PlannedPayout(r.row_key, r.as_payout()) for r in failed if r.row_key not in claimed
        ]
        warnings = gate(engine, settings, items, {})  # BalanceError (exit 6): nothing sent
        for row_key, reason in claimed.items():
            ledger.flag_review(batch, row_key, reason, code="paid_elsewhere")
        # asked again once the rows are marked sending: a run of another batch that
        # claimed them in between is seen here, and one that comes later sees them
        engine.hold = lambda rows: preflight.claimed_since(
            rows, ledger.recent_payments(batch, preflight.recent_since())
        )
        engine.retry_failed(None if only is None else set(only))
        engine.reconcile()
        result = audit_result(settings, "retry", _finish(ledger, batch, settings, engine), approved)
    result.problems = warnings
    return result


@gc_paused
def report(
    batch: str, *, settings: Settings | None = None, formats: tuple[str, ...] = FORMATS
) -> list[Path]:
    """Write the report files for a batch from the ledger alone: ``formats`` from ALL_FORMATS
    (the five of FORMATS by default; the accounting exports qbo, xero, netsuite, beancount,
    hledger on request; any case, each written once however often it is named). UsageError
    (exit 2) for an unknown format, ConfigError (exit 2) for a rates file that cannot be read."""
    from batchpay.approvals.audit import record_audit
    from batchpay.report.freshness import current_reports

    settings = settings or load_settings()
    formats = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = sorted(set(formats) - set(ALL_FORMATS))
    if unknown or not formats:
        what = f"unknown report format(s): {', '.join(unknown)}" if unknown else "no format given"
        raise UsageError(f"{what}; valid formats: {', '.join(ALL_FORMATS)} (comma-separated)")
    check_batch_id(batch)
    check_report_dir(settings.report_dir_for(batch))
    with existing_ledger(settings) as ledger:
        info = ledger.require_batch(batch)
        files, _ = report_guard(
            lambda: current_reports(ledger, info, settings, formats, rewrite=True)
        )
        if settings.approvers is not None:  # four eyes: the audit log
            record_audit(ledger, batch, "report", {"formats": list(formats)}, settings)
    return files


# -- helpers ------------------------------------------------------------------------------


def _before_claim(
    ledger: Ledger,
    engine: Engine,
    plan: Plan,
    settings: Settings,
    options: SheetOptions,
    confirm: Confirm | None,
) -> tuple[dict[str, Quote], list[Problem]]:
    """The fee quotes (they may ask the provider: gathered before the claim's transaction),
    then the balance check and the operator's confirmation (batchpay.send.balance), each
    preceded by the preflight where it would stop the run: a sheet the run refuses is
    refused (exit 1) before a shortfall (exit 6) is reported or a person is asked."""
    from batchpay.plan.fees import quote_requests
    from batchpay.send.balance import last_checks

    quotes = (
        {}
        if ledger.plan_digest(plan.batch) == plan.digest
        else quote_requests(plan.items, engine.quote, settings.fee_option, every=False)
    )
    check = _preflight_check(plan, settings, options, quotes)
    found = last_checks(
        ledger, engine, settings, plan, quotes, confirm, lambda: check(ledger.view(plan))
    )
    return quotes, found


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
