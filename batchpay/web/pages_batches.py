"""The batches list, a new batch (upload, problems, annotated copy)."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, RedirectResponse, Response

from batchpay.config import PROVIDERS
from batchpay.errors import BatchpayError, UsageError
from batchpay.guard import check_batch_id
from batchpay.money import to_wire
from batchpay.web import library
from batchpay.web.core import PREPARE, Ctx, page, refuse
from batchpay.web.drafts import SHEET_SUFFIXES, Draft


@dataclass
class Listed:
    batch: str
    provider: str
    state: str
    sandbox: bool | None = None
    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, str] = field(default_factory=dict)  # currency -> requested


@page()
async def batches(ctx: Ctx) -> Response:
    listed = await ctx.call(_listing, ctx)
    return ctx.render("batches.html.j2", title="Batches", batches=listed)


def _listing(ctx: Ctx) -> list[Listed]:
    from batchpay.ledger.users import batch_ids

    found: dict[str, Listed] = {}
    with ctx.state.ledger() as ledger:
        ids = batch_ids(ledger)
    for batch in ids:
        report = library.read_report(ctx.state.settings, batch)
        found[batch] = Listed(
            batch,
            report.batch.provider,
            "paid" if report.all_completed else "in the ledger",
            report.batch.sandbox,
            {k: v for k, v in report.counts.items() if v},
            {s.currency: to_wire(s.requested) for s in report.summaries},
        )
    for draft in ctx.state.drafts.all():
        if draft.batch not in found:
            found[draft.batch] = Listed(draft.batch, draft.provider, draft.state)
    return list(found.values())


@page(PREPARE)
async def new_batch(ctx: Ctx) -> Response:
    return _form(ctx, batch="", provider="sandbox")


def _form(
    ctx: Ctx, *, batch: str, provider: str, error: str | None = None, status_code: int = 200
) -> Response:
    return ctx.render(
        "new.html.j2",
        status_code=status_code,
        title="New batch",
        batch=batch,
        provider=provider,
        providers=PROVIDERS,
        error=error,
        suffixes=", ".join(SHEET_SUFFIXES),
    )


@page(PREPARE)
async def upload(ctx: Ctx) -> Response:
    batch, provider = ctx.field("batch"), ctx.field("provider")
    sheet = ctx.form.get("sheet") if ctx.form else None
    try:
        _check_upload(ctx, batch, provider, sheet)
    except UsageError as exc:
        return _form(ctx, batch=batch, provider=provider, error=str(exc), status_code=400)
    assert isinstance(sheet, UploadFile)
    drafts = ctx.state.drafts
    target = drafts.upload_target(batch, sheet.filename or "")
    await ctx.call(_store, sheet, target)
    drafts.annotated_path(batch).unlink(missing_ok=True)
    try:
        result = await ctx.call(
            library.validate, ctx.state.settings, target, provider, drafts.annotated_path(batch)
        )
    except BatchpayError as exc:  # unreadable: wrong type, corrupt, a zip bomb, too big
        shutil.rmtree(drafts.folder(batch), ignore_errors=True)  # only an unsubmitted draft
        said = str(exc).replace(str(target), sheet.filename or target.name)  # not our paths
        ctx.audit(batch, "upload refused", reason=said)
        return _form(ctx, batch=batch, provider=provider, error=said, status_code=400)
    assert ctx.user is not None
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    drafts.save(Draft(batch, provider, target.name, ctx.user.name, now))
    ctx.audit(batch, "upload", sheet=sheet.filename, ok=result.ok, problems=len(result.problems))
    if result.ok and not result.problems:
        return RedirectResponse(f"/batches/{batch}/review", status_code=303)
    return ctx.render(
        "problems.html.j2",
        title=f"Problems in {sheet.filename}",
        batch=batch,
        provider=provider,
        result=result,
        providers=PROVIDERS,
        annotated=result.annotated is not None,
    )


def _check_upload(ctx: Ctx, batch: str, provider: str, sheet: object) -> None:
    check_batch_id(batch)
    if provider not in PROVIDERS:
        raise UsageError(f"choose a provider: {', '.join(PROVIDERS)}")
    if not isinstance(sheet, UploadFile) or not sheet.filename:
        raise UsageError("choose the sheet to upload")
    if Path(sheet.filename).suffix.lower() not in SHEET_SUFFIXES:
        raise UsageError(f"{sheet.filename}: expected a .csv or .xlsx file")
    draft = ctx.state.drafts.get(batch)
    if draft is not None and draft.state != "uploaded":
        raise UsageError(f"batch {batch} was already {draft.state}; use a new batch id")
    if ctx.state.settings.ledger.exists():
        with ctx.state.ledger() as ledger:
            if ledger.batch(batch) is not None:
                raise UsageError(
                    f"batch {batch} is already in the ledger; a new sheet needs a new batch id"
                )


def _store(sheet: UploadFile, target: Path) -> None:
    sheet.file.seek(0)
    with target.open("wb") as out:
        shutil.copyfileobj(sheet.file, out)


@page()
async def annotated(ctx: Ctx) -> Response:
    batch = ctx.request.path_params["batch"]
    try:
        check_batch_id(batch)
    except UsageError as exc:
        return refuse(ctx, str(exc), 404)
    path = ctx.state.drafts.annotated_path(batch)
    if not path.is_file():
        return refuse(ctx, "no marked-up copy for this batch", 404)
    return FileResponse(
        path,
        filename=f"{batch}.checked.xlsx",
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
