"""The planning steps ``run`` shares with its dry run and with ``submit``: read, check and
plan a sheet (or take a batch's submitted plan), and the sheet options from the settings.

Imported by api.py and fouryes_api.py; like them, it loads the sheet stages (pandas, pandera)
only inside the functions that need them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from batchpay.config import Settings
from batchpay.errors import SheetRejected, UsageError
from batchpay.gcpause import paused_gc
from batchpay.problems import Problem

if TYPE_CHECKING:
    from batchpay.approvals.policy import Standing
    from batchpay.plan import Plan
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
    """The plan ``run`` pays (the sheet's, or without a sheet the batch's submitted plan), its
    warnings, and with four eyes where its approvals stand (batchpay.approvals.policy: raises
    ApprovalError when they are missing or for another plan; a dry run is not held to it)."""
    from batchpay.approvals.policy import gate_plan, submitted_plan

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


def plan_sheet(
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


def sheet_options(settings: Settings, options: SheetOptions | None) -> SheetOptions:
    from batchpay.validate import SheetOptions

    options = options or SheetOptions()
    return dataclasses.replace(
        options,
        locale=options.locale or settings.locale,
        max_amounts={**settings.max_amounts, **options.max_amounts},
    )


def check_provider(provider: str) -> None:
    from batchpay.providers import check_provider_name

    check_provider_name(provider)
