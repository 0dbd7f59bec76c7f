"""The plan ``run`` pays under four eyes: the sheet's, planned as always (batchpay.sheetplan),
or with no sheet the batch's submitted plan; and, unless it is a dry run, the approval gate
(batchpay.approvals.policy) it must pass before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from batchpay.approvals.policy import Standing, gate_plan, submitted_plan
from batchpay.errors import UsageError
from batchpay.sheetplan import check_provider, plan_sheet

if TYPE_CHECKING:
    from batchpay.config import Settings
    from batchpay.problems import Problem
    from batchpay.records import Plan
    from batchpay.validate import SheetOptions


def run_plan(
    sheet: Path | str | None,
    sheet_name: str | None,
    provider: str | None,
    batch: str,
    settings: Settings,
    options: SheetOptions,
    dry_run: bool,
) -> tuple[Plan, list[Problem], Standing | None]:
    """(plan, warnings, standing): the plan to pay (the sheet's; without a sheet the batch's
    submitted plan, UsageError if there is none), its warnings, and where its approvals stand
    (None when approvals are off or for a dry run). Raises ApprovalError (exit 5, nothing
    sent) when the plan lacks its approvals or is not the approved one."""
    if not batch.strip():
        raise UsageError("--batch must not be empty")
    warnings: list[Problem] = []
    if sheet is None:
        plan = submitted_plan(settings, batch, provider)
    elif provider is None:
        raise UsageError("--provider is needed with a sheet")
    else:
        check_provider(provider)
        plan, warnings = plan_sheet(Path(sheet), sheet_name, provider, batch, settings, options)
    return plan, warnings, None if dry_run else gate_plan(settings, plan)
