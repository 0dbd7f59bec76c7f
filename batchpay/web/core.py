"""What every page shares: the app's configuration and state, the request context (who is
signed in, the session, the posted form) and :func:`page`, which checks the role and the
CSRF token before a handler runs and writes the session cookie after it."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from batchpay.config import Settings
from batchpay.ledger import Ledger
from batchpay.ledger.users import User, get_user
from batchpay.money import to_wire
from batchpay.resources import data_dir
from batchpay.web.accounts import LoginLimiter
from batchpay.web.audit import Audit
from batchpay.web.drafts import Drafts
from batchpay.web.jobs import Jobs
from batchpay.web.sessions import Sessions, same_token

T = TypeVar("T")
log = logging.getLogger("batchpay.web")

# who may do what (a viewer only reads)
PREPARE = ("preparer", "approver", "admin")
APPROVE = ("approver", "admin")
PAY = ("preparer", "approver", "admin")
READ = ("preparer", "approver", "viewer", "admin")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class TooLarge(Exception):
    """A request body over the upload cap (raised while it is being read)."""


@dataclass
class WebConfig:
    settings: Settings
    upload_dir: Path
    secret: str | None = None  # BATCHPAY_WEB_SECRET; else made once and kept in the ledger
    secure_cookies: bool = False
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    audit: Audit | None = None
    max_body: int | None = None  # bytes of a request body (default: the CLI's file cap)
    clock: Callable[[], float] = time.time  # float-ok: seconds


@dataclass
class WebState:
    config: WebConfig
    sessions: Sessions
    templates: jinja2.Environment
    drafts: Drafts
    jobs: Jobs = field(default_factory=Jobs)

    @property
    def settings(self) -> Settings:
        return self.config.settings

    def ledger(self) -> Ledger:
        return Ledger(self.settings.ledger)

    def hide_paths(self, text: str) -> str:
        """``text`` (a page, an event) without the server's own paths: the ledger file, the
        report, approvers and rates files, the upload folder and the working directory
        become neutral words. A library message says where; a web user needs no path."""
        settings = self.settings
        named = [
            (settings.ledger, "(the ledger)"),
            (settings.report_dir, "(the reports folder)"),
            (settings.approvers, "(the approvers file)"),
            (settings.rates, "(the rates file)"),
            (self.config.upload_dir, "(the uploads folder)"),
            (Path.cwd(), "."),
        ]
        found: dict[str, str] = {}
        for where, word in named:
            if isinstance(where, Path):
                for spelt in {str(where.resolve()), str(where.absolute())}:
                    if spelt.count("/") > 1:  # absolute and not a top folder like /srv
                        found.setdefault(spelt, word)
        for spelt in sorted(found, key=len, reverse=True):  # the longest (most inside) first
            text = text.replace(spelt, found[spelt])
        return text


@dataclass
class Ctx:
    request: Request
    state: WebState
    session: dict[str, Any]
    user: User | None
    form: FormData | None = None

    @property
    def csrf(self) -> str:
        return str(self.session["csrf"])

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        page = self.state.templates.get_template(template)
        html = page.render(user=self.user, csrf=self.csrf, request=self.request, **values)
        return HTMLResponse(self.state.hide_paths(html), status_code=status_code)

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (blocking) library call in a worker thread."""
        return await run_in_threadpool(function, *args, **kwargs)

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""

    def audit(self, batch: str, action: str, **details: Any) -> None:
        """Record ``action`` on ``batch`` by the signed-in user (the four-eyes audit log)."""
        if self.state.config.audit is not None and self.user is not None:
            self.state.config.audit(batch, self.user.name, action, details)


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates") / "web"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["wire"] = to_wire  # a Decimal as the CLI prints it (no exponent)
    return env


Handler = Callable[[Ctx], Awaitable[Response]]


def page(
    roles: Collection[str] | None = READ,
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: load the session and the user, send a visitor who is not signed in to
    the log-in page (``roles=None``: open to all), refuse a role not in ``roles`` (403), and
    refuse a POST whose form does not carry the session's CSRF token (403). An exception
    the handler did not expect is logged and answered with a plain error page (500): no
    traceback, no server path."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            state: WebState = request.app.state.web
            session = state.sessions.load(request)
            user = await run_in_threadpool(_current_user, state, session)
            ctx = Ctx(request, state, session, user)
            try:
                response = await _guarded(ctx, roles, handler)
            except Exception:  # a fault of ours: logged for the operator, never shown
                log.exception("%s %s failed", request.method, request.url.path)
                response = refuse(ctx, "something went wrong on the server; it was logged", 500)
            state.sessions.save(request, response, ctx.session)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return endpoint

    return wrap


def _current_user(state: WebState, session: dict[str, Any]) -> User | None:
    name = session.get("user")
    if not isinstance(name, str):
        return None
    with state.ledger() as ledger:
        return get_user(ledger, name)


async def _guarded(ctx: Ctx, roles: Collection[str] | None, handler: Handler) -> Response:
    if roles is not None:
        if ctx.user is None:
            wanted = quote(ctx.request.url.path, safe="/")
            return RedirectResponse(f"/login?next={wanted}", status_code=303)
        if ctx.user.role not in roles:
            needs = " or ".join(r for r in READ if r in roles)
            return refuse(ctx, f"this needs the role {needs}; yours is {ctx.user.role}", 403)
    if ctx.request.method == "POST":
        try:
            ctx.form = await ctx.request.form(max_files=1, max_fields=2000)
        except TooLarge as exc:
            return refuse(ctx, str(exc), 413)
        except Exception:  # a malformed multipart body
            return refuse(ctx, "the form could not be read", 400)
        try:
            if not same_token(ctx.session.get("csrf"), ctx.form.get("csrf")):
                return refuse(
                    ctx,
                    "this form has expired or did not come from this site; "
                    "go back, reload the page and send it again",
                    403,
                )
            return await handler(ctx)
        finally:
            await ctx.form.close()  # an uploaded file's temporary copy goes now
    return await handler(ctx)


def refuse(ctx: Ctx, message: str, status_code: int) -> HTMLResponse:
    return ctx.render(
        "error.html.j2",
        status_code=status_code,
        message=message,
        title="Not allowed" if status_code == 403 else "Cannot do that",
    )
