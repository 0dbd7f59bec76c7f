"""The planning steps ``run`` shares with its dry run and with ``submit``: read, check and
plan a sheet (or take a batch's submitted plan), and the sheet options from the settings.

Imported by api.py and fouryes_api.py; like them, it loads the sheet stages (pandas, pandera)
only inside the functions that need them.

The run's one preflight (``batchpay.plan.preflight``) is here too: ``run`` makes it in its
claim transaction, and the dry run and the review (``batchpay.review.api``) make it on the
ledger as it is, writing nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from batchpay.config import Settings
from batchpay.errors import SheetRejected
from batchpay.gcpause import paused_gc
from batchpay.problems import Problem
from batchpay.results import RunResult
from batchpay.session import same_provider

if TYPE_CHECKING:
    import httpx

    from batchpay.plan import Plan
    from batchpay.plan.preflight import Check
    from batchpay.providers import Quote
    from batchpay.validate import SheetOptions


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


def preflight_check(
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


def preflight_as_is(
    plan: Plan, settings: Settings, options: SheetOptions, quotes: Mapping[str, Quote]
) -> list[Problem]:
    """:func:`preflight_check` on the ledger as it is now, writing nothing (the dry run and
    the review): SheetRejected, or the warnings."""
    from batchpay.plan.preflight import LedgerView

    check = preflight_check(plan, settings, options, quotes)
    if not settings.ledger.exists():
        return check(LedgerView(existing={}))
    from batchpay.ledger import Ledger  # SQLAlchemy: only once a ledger is there to read

    with Ledger(settings.ledger, create=False) as ledger:
        same_provider(ledger, plan.batch, plan.provider)
        return check(ledger.view(plan))


def dry_run(
    plan: Plan,
    settings: Settings,
    options: SheetOptions,
    warnings: list[Problem],
    transport: httpx.BaseTransport | None,
) -> RunResult:
    """Plan, quote and check exactly as the run would, without writing anything: no ledger
    rows, no sandbox state."""
    from batchpay.send.quotes import dry_run_quotes

    quotes, sandbox = dry_run_quotes(plan, settings, transport)
    found = preflight_as_is(plan, settings, options, quotes)
    return RunResult(
        plan.batch,
        plan.provider,
        sandbox,
        dry_run=True,
        plan=plan,
        quotes=quotes,
        problems=warnings + found,
    )
