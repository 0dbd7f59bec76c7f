"""The one place where the web app calls the library: each page calls here the same
``batchpay.api`` function as the matching command, with the same settings. No money logic
lives in the web layer; what it shows comes from these results.

Four eyes (issue 14): the review page shows ``api.review``'s pack. With an approvers file,
submitting and approving call ``batchpay submit`` and ``batchpay approve``'s functions with
the user's web signing key and ``via="web"``; ``run`` refuses (exit 5) a batch without the
signed approvals its policy needs, whichever way they were made."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from batchpay import api
from batchpay.config import Settings
from batchpay.ledger import Ledger
from batchpay.progress import Progress

if TYPE_CHECKING:
    from batchpay.approvals.keys import SigningKey
    from batchpay.approvals.policy import Standing
    from batchpay.fouryes_api import Approved, Submitted
    from batchpay.report import Report
    from batchpay.results import RunResult, ValidationResult
    from batchpay.review.pack import ReviewPack


def validate(settings: Settings, sheet: Path, provider: str, annotate: Path) -> ValidationResult:
    """``batchpay validate SHEET --provider P --annotated FILE``."""
    return api.validate(sheet, provider, settings=settings, annotate=annotate)


def review(settings: Settings, sheet: Path, provider: str, batch: str) -> ReviewPack:
    """``batchpay review SHEET --provider P --batch ID``: the review pack (plan, totals per
    currency and network, fees, roundings, payee changes, balance, digest), written as
    review.html and review.json beside the report, as the command writes them. Raises
    SheetRejected and the other BatchpayErrors of the command."""
    return api.review(sheet, provider, batch, settings=settings)


def submit(
    settings: Settings, sheet: Path, provider: str, batch: str, key: SigningKey, account: str
) -> Submitted:
    """``batchpay submit SHEET --provider P --batch ID`` signed with ``key`` (the web
    account ``account``'s), recorded ``via="web"``. Raises the command's BatchpayErrors
    (ApprovalError: the key is not in the approvers file)."""
    from batchpay import fouryes_api

    return fouryes_api.submit(
        sheet, provider, batch, settings=settings, key=key, via="web", account=account
    )


def approve(
    settings: Settings,
    batch: str,
    digest: str | None,
    acks: list[str],
    key: SigningKey,
    account: str,
) -> Approved:
    """``batchpay approve --batch ID --digest D --ack R...`` signed with ``key``, recorded
    ``via="web"``. Raises ApprovalError (the preparer, by person; a key not in the approvers
    file or not an approver's; a changed or new payee not ticked; another digest)."""
    from batchpay import fouryes_api

    return fouryes_api.approve(
        batch, settings=settings, digest=digest, acks=acks, key=key, via="web", account=account
    )


def standing(settings: Settings, batch: str) -> Standing | None:
    """With four eyes on, where ``batch`` stands (its submission, the signed approvals that
    count, how many it needs: what ``run``'s gate checks); None when they are off or there
    is no ledger. Raises ConfigError for a broken approvers file."""
    from batchpay.approvals.policy import roster_of
    from batchpay.approvals.policy import standing as where

    roster = roster_of(settings)
    if roster is None or not settings.ledger.exists():
        return None
    with Ledger(settings.ledger, create=False) as ledger:
        return where(ledger, roster, batch)


def run(
    settings: Settings, sheet: Path, provider: str, batch: str, progress: Progress
) -> RunResult:
    """``batchpay run SHEET --provider P --batch ID`` (with four eyes on: exit 5, nothing
    sent, unless the sheet's plan is the submitted one with the approvals it needs)."""
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
