"""The one place where the web app calls the library: each page calls here the same
``batchpay.api`` function as the matching command, with the same settings. No money logic
lives in the web layer; what it shows comes from these results.

Four eyes (issue 14): ``api.review``, ``api.submit`` and ``api.approve`` are being built on
other branches. Until they are merged, :func:`review` shows the dry run (the same plan,
totals, roundings and fee quotes ``run --dry-run`` prints) and the drafts folder records who
submitted and approved which plan digest (WIRE: marks each call to replace). The digest and
the payee changes already come from ``batchpay.review`` (the #14 interface)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from batchpay import api
from batchpay.config import Settings
from batchpay.progress import Progress
from batchpay.results import RunResult

if TYPE_CHECKING:
    from batchpay.report import Report
    from batchpay.results import ValidationResult
    from batchpay.review.changes import PayeeChange


def validate(settings: Settings, sheet: Path, provider: str, annotate: Path) -> ValidationResult:
    """``batchpay validate SHEET --provider P --annotated FILE``."""
    return api.validate(sheet, provider, settings=settings, annotate=annotate)


@dataclass
class Review:
    """What the review and approve pages show: the dry run's result (plan, totals, quotes,
    warnings), the approval digest (``batchpay.review.digest``) and the payee changes
    since the last paid batch (``batchpay.review.changes``)."""

    result: RunResult
    digest: str
    changes: list[PayeeChange]


def review(settings: Settings, sheet: Path, provider: str, batch: str) -> Review:
    """The review pack. WIRE: ``api.review`` (h-pack) once merged; today the dry run
    (``batchpay run SHEET --provider P --batch ID --dry-run``, which checks what the run
    checks before sending), with the #14 digest and payee changes. Raises SheetRejected
    and the other BatchpayErrors of the dry run."""
    from batchpay.ledger import Ledger
    from batchpay.review.changes import payee_changes
    from batchpay.review.digest import approval_digest

    result = api.run(sheet, provider, batch, settings=settings, dry_run=True)
    assert result.plan is not None  # a dry run always returns its plan
    changes: list[PayeeChange] = []
    if settings.ledger.exists():
        with Ledger(settings.ledger, create=False) as ledger:
            changes = payee_changes(ledger, result.plan, amount_share=settings.review_amount_change)
    digest = approval_digest(result.plan, fee_option=settings.fee_option)
    return Review(result, digest, changes)


def run(
    settings: Settings, sheet: Path, provider: str, batch: str, progress: Progress
) -> RunResult:
    """``batchpay run SHEET --provider P --batch ID``. WIRE: ``run --batch ID`` (pay the
    submitted plan, exit 5 without its approvals) once h-eyes is merged."""
    return api.run(sheet, provider, batch, settings=settings, progress=progress)


def status(settings: Settings, batch: str, progress: Progress) -> RunResult:
    """``batchpay status --batch ID``."""
    return api.status(batch, settings=settings, progress=progress)


def retry(
    settings: Settings, batch: str, progress: Progress, rows: Collection[int] | None = None
) -> RunResult:
    """``batchpay retry --batch ID``, limited to the sheet rows ``rows`` when given (the
    rows ticked on the page; a row that has not failed for good is left alone by retry)."""
    from batchpay.session import existing_ledger

    only = None
    if rows is not None:
        with existing_ledger(settings) as ledger:
            only = {r.row_key for r in ledger.rows(batch) if r.sheet_row in set(rows)}
    return api.retry(batch, settings=settings, progress=progress, only=only)


def report_files(settings: Settings, batch: str) -> list[Path]:
    """``batchpay report --batch ID``: writes (or leaves, when current) the report files in
    the batch's report folder and returns their paths."""
    return api.report(batch, settings=settings)


def read_report(settings: Settings, batch: str) -> Report:
    """The batch's reconciliation, read from the ledger (what the report files show)."""
    from batchpay.report import build_report
    from batchpay.session import existing_ledger

    with existing_ledger(settings) as ledger:
        return build_report(ledger, batch)
