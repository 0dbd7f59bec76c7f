"""Run with live progress (server-sent events; a refresh without JavaScript), per-row status
with a filter, retry selected failed rows, refresh the status, and the report files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from batchpay.errors import BatchpayError, LedgerError, UsageError
from batchpay.guard import check_batch_id
from batchpay.model import RowStatus
from batchpay.web import library
from batchpay.web.core import PAY, Ctx, page, refuse
from batchpay.web.drafts import Draft
from batchpay.web.jobs import Job

STATUSES = [str(s) for s in RowStatus]


@dataclass(frozen=True)
class Standing:
    """Whether the page offers to pay: who approved, and (four eyes on) how many it needs."""

    payable: bool
    by: list[str] = field(default_factory=list)
    required: int = 0  # signed approvals needed (0: four eyes off)


def _standing(ctx: Ctx, draft: Draft | None) -> Standing:
    """With four eyes on, the ledger's signed approvals decide (made in the browser or with
    ``batchpay approve``); without, the draft's (another person approved this digest)."""
    if draft is None:
        return Standing(False)
    if ctx.state.settings.approvers is None:
        return Standing(draft.state == "approved", [a.by for a in draft.approvals])
    try:
        found = library.standing(ctx.state.settings, draft.batch)
    except BatchpayError:  # a broken approvers file: the run says why
        return Standing(False)
    if found is None or found.submission is None or found.submission.digest != draft.digest:
        return Standing(False)
    return Standing(found.approved, [p.name for _, p in found.counted], found.required)


def _batch(ctx: Ctx) -> str | None:
    batch = str(ctx.request.path_params["batch"])
    try:
        check_batch_id(batch)
    except UsageError:
        return None
    return batch


@page()
async def run_page(ctx: Ctx) -> Response:
    batch = _batch(ctx)
    if batch is None:
        return refuse(ctx, "no such batch", 404)
    job = ctx.state.jobs.get(batch)
    state = job.snapshot() if job else None
    wanted = ctx.request.query_params.get("status", "")
    try:
        report = await ctx.call(library.read_report, ctx.state.settings, batch)
    except LedgerError:
        report = None
    rows = [] if report is None else [r for r in report.rows if not wanted or r.status == wanted]
    draft = ctx.state.drafts.get(batch)
    approval = await ctx.call(_standing, ctx, draft)
    return ctx.render(
        "run.html.j2",
        title=f"Run {batch}",
        batch=batch,
        job=state,
        report=report,
        rows=rows,
        wanted=wanted,
        statuses=STATUSES,
        draft=draft,
        approval=approval,
        may_pay=ctx.user is not None and ctx.user.role in PAY,
        refresh=state is not None and not state.finished,
    )


@page(PAY)
async def start_run(ctx: Ctx) -> Response:
    batch = _batch(ctx)
    draft = ctx.state.drafts.get(batch) if batch else None
    if batch is None or draft is None:
        return refuse(ctx, "no uploaded sheet for this batch", 404)
    if not (await ctx.call(_standing, ctx, draft)).payable:  # api.run's gate checks again
        return refuse(ctx, "this batch needs its approval before it can be paid", 403)
    settings, sheet = ctx.state.settings, ctx.state.drafts.sheet_path(draft)

    def work(job: Job) -> int:
        if library.review(settings, sheet, draft.provider, batch).digest != draft.digest:
            raise UsageError("the sheet no longer matches the approved plan; nothing was sent")
        return library.run(settings, sheet, draft.provider, batch, job).exit_code

    return _start(ctx, batch, "run", work)


@page(PAY)
async def retry(ctx: Ctx) -> Response:
    batch = _batch(ctx)
    if batch is None:
        return refuse(ctx, "no such batch", 404)
    values = [str(v) for v in ctx.form.getlist("row")] if ctx.form else []
    chosen = [int(v) for v in values if v.isascii() and v.isdigit()]  # not "²"
    if not chosen:
        return refuse(ctx, "tick the failed rows to retry", 400)
    settings = ctx.state.settings
    return _start(
        ctx,
        batch,
        "retry",
        lambda job: library.retry(settings, batch, job, chosen).exit_code,
        rows=chosen,
    )


@page(PAY)
async def refresh(ctx: Ctx) -> Response:
    batch = _batch(ctx)
    if batch is None:
        return refuse(ctx, "no such batch", 404)
    settings = ctx.state.settings
    return _start(ctx, batch, "status", lambda job: library.status(settings, batch, job).exit_code)


def _start(
    ctx: Ctx, batch: str, action: str, work: Callable[[Job], int], **details: object
) -> Response:
    job = ctx.state.jobs.start(batch, action, work)
    if job is None:
        return refuse(ctx, "this batch is already being worked on; wait for it to finish", 409)
    ctx.audit(batch, action, **details)
    return RedirectResponse(f"/batches/{batch}/run", status_code=303)


@page()
async def events(ctx: Ctx) -> Response:
    batch = _batch(ctx)
    job = ctx.state.jobs.get(batch) if batch else None
    if job is None:
        return Response("event: idle\ndata: {}\n\n", media_type="text/event-stream")
    return StreamingResponse(
        _stream(job, ctx.state.hide_paths),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store"},
    )


async def _stream(job: Job, hide: Callable[[str], str]) -> AsyncIterator[str]:
    seen = -1
    while True:
        state = await run_in_threadpool(job.wait_change, seen, 15.0)
        seen = state.version
        yield f"data: {hide(json.dumps(state.as_event()))}\n\n"
        if state.finished:
            return


@page()
async def reports(ctx: Ctx) -> Response:
    batch = _batch(ctx)
    if batch is None:
        return refuse(ctx, "no such batch", 404)
    try:
        files = await ctx.call(library.report_files, ctx.state.settings, batch)
    except LedgerError as exc:
        return refuse(ctx, str(exc), 404)
    return ctx.render(
        "reports.html.j2",
        title=f"Reports of {batch}",
        batch=batch,
        files=[(f.name, f.stat().st_size) for f in files],
    )


@page()
async def report_file(ctx: Ctx) -> Response:
    batch, name = _batch(ctx), str(ctx.request.path_params["name"])
    if batch is None:
        return refuse(ctx, "no such batch", 404)
    try:
        files = await ctx.call(library.report_files, ctx.state.settings, batch)
    except LedgerError as exc:
        return refuse(ctx, str(exc), 404)
    found = next((f for f in files if f.name == name), None)
    if found is None:
        return refuse(ctx, "no such report file", 404)
    ctx.audit(batch, "download report", file=name)
    return FileResponse(found, filename=f"{batch}-{name}")
