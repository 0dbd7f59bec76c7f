"""Signing in and out."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from batchpay.ledger.users import User
from batchpay.web.accounts import hash_password, needs_rehash, verify_password
from batchpay.web.core import Ctx, page


def _safe_next(target: str) -> str:
    """Only a path on this site (never //host, a scheme, a backslash, or a control character
    or space, which browsers drop: ``/<tab>/host`` is ``//host``) may follow the log-in."""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return target
    return "/"


@page(roles=None)
async def login_form(ctx: Ctx) -> Response:
    return ctx.render(
        "login.html.j2",
        title="Sign in",
        error=None,
        name="",
        next=_safe_next(ctx.request.query_params.get("next", "/")),
    )


@page(roles=None)
async def login(ctx: Ctx) -> Response:
    name, password = ctx.field("name"), ctx.form.get("password") if ctx.form else None
    target = _safe_next(ctx.field("next") or "/")
    address = ctx.request.client.host if ctx.request.client else "?"
    limiter = ctx.state.config.limiter
    wait = limiter.blocked(name, address)
    if wait is not None:
        return ctx.render(
            "login.html.j2",
            status_code=429,
            title="Sign in",
            name=name,
            next=target,
            error=f"Too many failed attempts; try again in {int(wait) // 60 + 1} minutes.",
        )
    user = await ctx.call(_check, ctx, name, password if isinstance(password, str) else "")
    if user is None:
        limiter.failed(name, address)
        if ctx.state.config.audit is not None:
            details = {"name": name[:100], "address": address}
            ctx.state.config.audit("-", "(not signed in)", "login failed", details)
        return ctx.render(
            "login.html.j2",
            status_code=401,
            title="Sign in",
            name=name,
            next=target,
            error="That name and password do not match an account.",
        )
    limiter.succeeded(name, address)
    ctx.state.sessions.begin(ctx.session, user)  # a new session id and CSRF token
    ctx.user = await ctx.call(_lookup, ctx, user)
    ctx.audit("-", "login")
    return RedirectResponse(target, status_code=303)


def _check(ctx: Ctx, name: str, password: str) -> str | None:
    from batchpay.ledger.users import get_user, set_password_hash

    with ctx.state.ledger() as ledger:
        user = get_user(ledger, name)
        if user is None:
            verify_password(_DUMMY, password)  # the same time for an unknown name
            return None
        if not verify_password(user.password_hash, password):
            return None
        if needs_rehash(user.password_hash):
            set_password_hash(ledger, user.name, hash_password(password))
        if user.sealed_key is None and user.role != "viewer":  # an account older than 008
            from batchpay.ledger.users import set_web_key
            from batchpay.web.signing import new_web_key

            made = new_web_key(user.name, password)
            set_web_key(ledger, user.name, made.public_line, made.sealed)
    return user.name


def _lookup(ctx: Ctx, name: str) -> User | None:
    from batchpay.ledger.users import get_user

    with ctx.state.ledger() as ledger:
        return get_user(ledger, name)


_DUMMY = hash_password("not a password of anyone's")


@page()
async def logout(ctx: Ctx) -> Response:
    ctx.audit("-", "logout")
    ctx.state.sessions.end(ctx.session)  # a copy of the old cookie signs no one in
    return RedirectResponse("/login", status_code=303)
