"""The step-up on the submit and approve forms, with four eyes on: the user types their
password again, it unseals their signing key (:mod:`batchpay.web.signing`) in memory for this
one request, and the page signs through the library (``submit``/``approve`` with
``via="web"``). A wrong password is refused, records nothing but its own audit entry, and
counts against the log-in rate limit (the same :class:`~batchpay.web.accounts.LoginLimiter`)."""

from __future__ import annotations

from dataclasses import dataclass

from batchpay.approvals.keys import SigningKey
from batchpay.web.core import Ctx
from batchpay.web.signing import unseal


@dataclass(frozen=True)
class Refusal:
    message: str
    status_code: int


def four_eyes(ctx: Ctx) -> bool:
    """Whether an approvers file is configured: then submit and approve sign."""
    return ctx.state.settings.approvers is not None


async def unlock(ctx: Ctx, batch: str) -> SigningKey | Refusal:
    """The signed-in user's signing key for this request, or why not."""
    user = ctx.user
    assert user is not None
    address = ctx.request.client.host if ctx.request.client else "?"
    limiter = ctx.state.config.limiter
    wait = limiter.blocked(user.name, address)
    if wait is not None:
        return Refusal(f"too many wrong passwords; try again in {int(wait) // 60 + 1} minutes", 429)
    if not user.sealed_key:
        return Refusal(
            "your account has no signing key yet: sign out and in again to make one, then "
            "have an admin add it to the approvers file (batchpay users key "
            f"{user.name})",
            409,
        )
    password = ctx.form.get("password") if ctx.form is not None else None
    typed = password if isinstance(password, str) else ""
    key = await ctx.call(unseal, user.sealed_key, user.name, typed) if typed else None
    if key is None:
        limiter.failed(user.name, address)
        ctx.audit(batch, "step-up refused")
        return Refusal(
            "that password does not unlock your signing key; nothing was signed "
            "(go back and type it again)",
            401,
        )
    limiter.succeeded(user.name, address)
    return key
