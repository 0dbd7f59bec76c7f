"""The ASGI app: Starlette routes over the pages, the static files shipped in the package,
the upload cap, and the session secret (``BATCHPAY_WEB_SECRET``, else made on first run and
kept in the ledger)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from batchpay.ledger.users import web_secret
from batchpay.web import pages_auth, pages_batches, pages_review, pages_run
from batchpay.web.core import WebConfig, WebState, templates
from batchpay.web.drafts import Drafts
from batchpay.web.limits import BodyLimit, SecurityHeaders
from batchpay.web.sessions import Sessions, new_secret

__all__ = ["WebConfig", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"

ROUTES = [
    Route("/login", pages_auth.login_form, methods=["GET"]),
    Route("/login", pages_auth.login, methods=["POST"]),
    Route("/logout", pages_auth.logout, methods=["POST"]),
    Route("/", pages_batches.batches, methods=["GET"]),
    Route("/batches/new", pages_batches.new_batch, methods=["GET"]),
    Route("/batches/new", pages_batches.upload, methods=["POST"]),
    Route("/batches/{batch}/annotated", pages_batches.annotated, methods=["GET"]),
    Route("/batches/{batch}/review", pages_review.review, methods=["GET"]),
    Route("/batches/{batch}/submit", pages_review.submit, methods=["POST"]),
    Route("/batches/{batch}/approve", pages_review.approve_form, methods=["GET"]),
    Route("/batches/{batch}/approve", pages_review.approve, methods=["POST"]),
    Route("/batches/{batch}/run", pages_run.run_page, methods=["GET"]),
    Route("/batches/{batch}/run", pages_run.start_run, methods=["POST"]),
    Route("/batches/{batch}/events", pages_run.events, methods=["GET"]),
    Route("/batches/{batch}/retry", pages_run.retry, methods=["POST"]),
    Route("/batches/{batch}/refresh", pages_run.refresh, methods=["POST"]),
    Route("/batches/{batch}/reports", pages_run.reports, methods=["GET"]),
    Route("/batches/{batch}/reports/{name}", pages_run.report_file, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
]


def create_app(config: WebConfig) -> Starlette:
    """The web app over ``config.settings``' ledger. Raises LedgerError when the ledger
    cannot be opened (to make or read the session secret)."""
    from batchpay.ledger import Ledger

    secret = config.secret
    if secret is None:
        with Ledger(config.settings.ledger) as ledger:
            secret = web_secret(ledger, new_secret)
    if config.audit is None:
        from batchpay.web.audit import LedgerAudit

        config.audit = LedgerAudit(config.settings)
    middleware = [Middleware(SecurityHeaders), Middleware(BodyLimit, limit=config.max_body)]
    app = Starlette(routes=ROUTES, middleware=middleware)
    app.state.web = WebState(
        config,
        Sessions(secret, secure=config.secure_cookies),
        templates(),
        Drafts(config.upload_dir),
    )

    return app
