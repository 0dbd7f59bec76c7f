"""``batchpay.api.review``: the review pack command, kept beside the pack so the api module
stays within the house size (``batchpay.api`` re-exports it).

It reads, checks and plans the sheet with the run's own helpers (:mod:`batchpay.sheetplan`)
and runs the run's own preflight (``batchpay.plan.preflight``) on the ledger as it is,
writing nothing: whatever the run would refuse before sending, the review
refuses with the same error and exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from batchpay.config import Settings, load_settings
from batchpay.gcpause import gc_paused
from batchpay.guard import check_batch_id, check_report_dir
from batchpay.sheetplan import check_provider, plan_sheet, preflight_as_is, sheet_options

if TYPE_CHECKING:
    import httpx

    from batchpay.review.pack import ReviewPack
    from batchpay.validate import SheetOptions


@gc_paused
def review(
    sheet: Path | str,
    provider: str,
    batch: str,
    *,
    settings: Settings | None = None,
    sheet_name: str | None = None,
    options: SheetOptions | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ReviewPack:
    """The review pack (``batchpay review``): the dry run's plan, checks and fee quotes, with
    totals per currency and network, payee changes since the last paid batch, the balances
    and the plan digest. Writes review.html and review.json into the report folder
    (``settings.report_dir_for(batch)``); sends nothing and writes no ledger row.

    Raises what the run raises before sending: SheetRejected (exit 1) for a sheet or plan the
    run refuses, UsageError / ConfigError / LedgerError (exit 2). A balance that does not
    cover the batch is not raised: the pack shows it and its ``exit_code`` is 6."""
    from batchpay.approvals.audit import audit_event
    from batchpay.review.pack import build_pack
    from batchpay.send.balance import enabled
    from batchpay.send.quotes import provider_view

    settings = settings or load_settings()
    check_provider(provider)
    check_batch_id(batch)
    check_report_dir(settings.report_dir_for(batch))
    options = sheet_options(settings, options)
    plan, warnings = plan_sheet(Path(sheet), sheet_name, provider, batch, settings, options)
    view = provider_view(plan, settings, transport, balances=enabled(settings, provider))
    found = preflight_as_is(plan, settings, options, view.quotes)
    pack = build_pack(plan, settings, view, warnings + found)
    audit_event(settings, batch, "review", {"digest": pack.digest})  # four eyes only
    return pack
