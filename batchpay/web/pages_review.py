"""Review (the pack) and submit; approve (another person, each changed payee ticked).

With four eyes on (an approvers file), submit and approve ask for the password again, unlock
the user's signing key for the request (:mod:`batchpay.web.stepup`) and sign through the same
library functions as ``batchpay submit`` and ``batchpay approve``, with ``via="web"``: the
ledger's audit log records them. Without it, the draft records who submitted and approved."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.responses import RedirectResponse, Response

from batchpay.errors import BatchpayError, SheetRejected, UsageError
from batchpay.guard import check_batch_id
from batchpay.web import library
from batchpay.web.core import APPROVE, PREPARE, Ctx, page, refuse
from batchpay.web.drafts import Approval, Draft
from batchpay.web.stepup import Refusal, four_eyes, unlock


def _draft(ctx: Ctx) -> Draft | None:
    batch = ctx.request.path_params["batch"]
    try:
        check_batch_id(batch)
    except UsageError:
        return None
    return ctx.state.drafts.get(batch)


def _pack(ctx: Ctx, draft: Draft) -> dict[str, Any]:
    """What the review and approve pages show: the review pack as ``review --json`` has it,
    or why the sheet was refused."""
    from batchpay.review.pack import pack_json

    sheet = ctx.state.drafts.sheet_path(draft)
    try:
        pack = library.review(ctx.state.settings, sheet, draft.provider, draft.batch)
    except SheetRejected as exc:
        return {"rejected": str(exc), "issues": [p.to_json() for p in exc.problems]}
    except BatchpayError as exc:
        return {"rejected": str(exc), "issues": []}
    return {"rejected": None, "short": pack.exit_code == 6, **pack_json(pack)}


@page()
async def review(ctx: Ctx) -> Response:
    draft = _draft(ctx)
    if draft is None:
        return refuse(ctx, "no uploaded sheet for this batch", 404)
    pack = await ctx.call(_pack, ctx, draft)
    return ctx.render(
        "review.html.j2",
        title=f"Review {draft.batch}",
        draft=draft,
        pack=pack,
        may_submit=ctx.user is not None and ctx.user.role in PREPARE,
        signing=four_eyes(ctx),
    )


@page(PREPARE)
async def submit(ctx: Ctx) -> Response:
    draft = _draft(ctx)
    if draft is None:
        return refuse(ctx, "no uploaded sheet for this batch", 404)
    if draft.state != "uploaded":
        return refuse(ctx, f"this batch was already {draft.state}", 409)
    pack = await ctx.call(_pack, ctx, draft)
    if pack["rejected"] or pack["digest"] != ctx.field("digest"):
        return refuse(ctx, "the plan changed since you reviewed it; review it again", 409)
    assert ctx.user is not None
    if four_eyes(ctx):
        refused = await _signed_submit(ctx, draft, pack["digest"])
        if refused is not None:
            return refuse(ctx, refused.message, refused.status_code)
    else:
        ctx.audit(draft.batch, "submit", digest=pack["digest"])
    draft.submitted_by, draft.submitted_at = ctx.user.name, _now()
    draft.digest = pack["digest"]
    ctx.state.drafts.save(draft)
    return RedirectResponse(f"/batches/{draft.batch}/review", status_code=303)


async def _signed_submit(ctx: Ctx, draft: Draft, digest: str) -> Refusal | None:
    """``batchpay submit`` with the user's web key (the audit entry: via web, the account)."""
    key = await unlock(ctx, draft.batch)
    if isinstance(key, Refusal):
        return key
    assert ctx.user is not None
    sheet = ctx.state.drafts.sheet_path(draft)
    try:
        done = await ctx.call(
            library.submit, ctx.state.settings, sheet, draft.provider, draft.batch, key,
            ctx.user.name,
        )  # fmt: skip
    except BatchpayError as exc:
        return Refusal(_said(exc, ctx.user.name).replace(str(sheet), draft.sheet), 409)
    if done.digest != digest:  # the sheet is the reviewed one; settings changed meanwhile
        return Refusal("the plan changed since you reviewed it; review it again", 409)
    return None


def _may_approve(ctx: Ctx, draft: Draft) -> str | None:
    """Why the signed-in user may not approve ``draft``, or None."""
    assert ctx.user is not None
    if draft.state == "uploaded":
        return "this batch has not been submitted for approval yet"
    if draft.submitted_by == ctx.user.name or draft.uploaded_by == ctx.user.name:
        return "you prepared this batch: another person must approve it"
    if any(a.by == ctx.user.name for a in draft.approvals):
        return "you have already approved this batch"
    return None


@page(APPROVE)
async def approve_form(ctx: Ctx) -> Response:
    draft = _draft(ctx)
    if draft is None:
        return refuse(ctx, "no uploaded sheet for this batch", 404)
    why = _may_approve(ctx, draft)
    if why:
        return refuse(ctx, why, 403)
    pack = await ctx.call(_pack, ctx, draft)
    return _approve_page(ctx, draft, pack, None, 200)


def _approve_page(
    ctx: Ctx, draft: Draft, pack: dict[str, Any], error: str | None, status_code: int
) -> Response:
    return ctx.render(
        "approve.html.j2",
        status_code=status_code,
        title=f"Approve {draft.batch}",
        draft=draft,
        pack=pack,
        error=error,
        signing=four_eyes(ctx),
    )


@page(APPROVE)
async def approve(ctx: Ctx) -> Response:
    draft = _draft(ctx)
    if draft is None:
        return refuse(ctx, "no uploaded sheet for this batch", 404)
    why = _may_approve(ctx, draft)
    if why:
        return refuse(ctx, why, 403)
    pack = await ctx.call(_pack, ctx, draft)
    error = _approval_error(ctx, draft, pack)
    if error:
        return _approve_page(ctx, draft, pack, error, 409)
    assert ctx.user is not None and draft.digest is not None
    acked = sorted(str(v) for v in ctx.form.getlist("ack")) if ctx.form else []
    if four_eyes(ctx):
        refused = await _signed_approve(ctx, draft, acked)
        if refused is not None:
            return _approve_page(ctx, draft, pack, refused.message, refused.status_code)
    else:
        ctx.audit(draft.batch, "approve", digest=draft.digest, acked=acked)
    draft.approvals.append(Approval(ctx.user.name, _now(), draft.digest, acked))
    ctx.state.drafts.save(draft)
    return RedirectResponse(f"/batches/{draft.batch}/run", status_code=303)


async def _signed_approve(ctx: Ctx, draft: Draft, acked: list[str]) -> Refusal | None:
    """``batchpay approve --digest D --ack ...`` with the user's web key: an Ed25519
    approval like the command line's (it counts only if the key is in the approvers file)."""
    key = await unlock(ctx, draft.batch)
    if isinstance(key, Refusal):
        return key
    assert ctx.user is not None
    try:
        await ctx.call(
            library.approve, ctx.state.settings, draft.batch, draft.digest, acked, key,
            ctx.user.name,
        )  # fmt: skip
    except BatchpayError as exc:
        return Refusal(_said(exc, ctx.user.name), 409)
    return None


def _said(exc: BatchpayError, account: str) -> str:
    """The library's refusal, with where a web user's key line comes from."""
    text = str(exc)
    if "not in the approvers file" in text:
        text += f" (an admin prints this account's key line with `batchpay users key {account}`)"
    return text


def _approval_error(ctx: Ctx, draft: Draft, pack: dict[str, Any]) -> str | None:
    if pack["rejected"] or pack["digest"] != draft.digest:
        return "the plan no longer matches the submitted digest; it must be submitted again"
    if ctx.field("digest") != draft.digest:
        return "the digest you saw is not the submitted one; reload the page"
    ticked = set(ctx.form.getlist("ack")) if ctx.form else set()
    missing = [r for r in pack["must_acknowledge"] if r not in ticked]
    if missing:
        return "tick each changed payee to confirm you checked it: " + ", ".join(missing)
    return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
