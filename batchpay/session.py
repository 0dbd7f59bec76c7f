"""The one frame around every command that talks to a provider (run, status, retry): hold
the batch, open its ledger and its provider, build the engine, and close the provider
whatever happens. The commands differ only in what they do inside it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from batchpay.config import Settings
from batchpay.errors import LedgerError, UsageError
from batchpay.ledger.lock import batch_lock

if TYPE_CHECKING:
    import httpx

    from batchpay.ledger import Ledger  # loaded when a ledger is opened (SQLAlchemy)
    from batchpay.providers.sandbox import FaultHook
    from batchpay.send import Engine, Progress


@contextmanager
def batch_session(
    settings: Settings,
    batch: str,
    *,
    provider: str | None = None,
    progress: Progress | None = None,
    faults: FaultHook | None = None,
    transport: httpx.BaseTransport | None = None,
    role: str = "worker",
) -> Iterator[tuple[Ledger, Engine]]:
    """Yield (ledger, engine) for ``batch`` under its lock.

    provider: None for a batch the ledger already holds (its provider and fee option come
    from the ledger; raises LedgerError when there is no ledger or no such batch); a name
    for ``run``, which may start the batch (raises UsageError if the ledger holds it under
    another provider). Raises BatchLocked when another process holds the batch (SQLite), or
    holds it under this worker's name (PostgreSQL, where workers of different names share
    it, each claiming its rows). ``role``: "worker" (run, retry) or "status"."""
    from batchpay.guard import watch
    from batchpay.ledger import Ledger
    from batchpay.providers import open_provider
    from batchpay.send import Engine, Progress

    with batch_lock(settings.ledger, batch):
        ledger = Ledger(settings.ledger) if provider is not None else existing_ledger(settings)
        with ledger:
            fee_option = None
            if provider is None:
                info = ledger.require_batch(batch)
                provider, fee_option = info.provider, info.fee_option
            else:
                same_provider(ledger, batch, provider)
            opened = open_provider(provider, settings, faults, transport)
            try:
                engine = Engine(
                    ledger=ledger,
                    provider=opened,
                    batch=batch,
                    concurrency=settings.concurrency,
                    rate=settings.rate_limit(opened.name),
                    fee_option=fee_option or settings.fee_option,
                    progress=progress or Progress(),
                    **shared_work(
                        ledger, batch, opened.name, settings.rate_limit(opened.name), role
                    ),
                )
                with workers_done(engine):
                    yield ledger, watch(engine)  # the guard counts the payouts that left
            finally:
                opened.close()


def shared_work(
    ledger: Ledger,
    batch: str,
    provider: str,
    rate: float,  # float-ok: requests per second
    role: str = "worker",
) -> dict[str, Any]:
    """For a ledger several workers share (PostgreSQL): the claims of this worker (holding
    its name's lock on the batch; BatchLocked if another live process has it) and the rate
    limit all workers hold together; nothing for a SQLite ledger (one process, file lock)."""
    if not ledger.shared:
        return {}
    from batchpay.send.claiming import Claimer, worker_id
    from batchpay.send.ratelimit import SharedRateLimiter

    name = worker_id(role)
    claims = Claimer(ledger, batch, name, holding=ledger.worker_lock(batch, name))
    try:
        limiter = SharedRateLimiter(rate, provider, ledger.side_connection()) if rate > 0 else None
    except BaseException:
        claims.release()
        raise
    return {"claims": claims, "limiter": limiter}


@contextmanager
def workers_done(engine: Engine) -> Iterator[None]:
    """At the end of a session, give up this worker's leases (they would expire anyway) and
    the shared limiter's connection; a ledger that fails here adds no second error."""
    try:
        yield
    finally:
        with contextlib.suppress(LedgerError):
            if engine.claims is not None:
                engine.claims.release()
            if engine.limiter is not None:
                engine.limiter.close()


def existing_ledger(settings: Settings) -> Ledger:
    """The ledger a command that reads a batch needs; raises LedgerError if there is none."""
    if not settings.ledger.exists():
        raise LedgerError(f"no ledger at {settings.ledger}; run a batch first (or pass --ledger)")
    from batchpay.ledger import Ledger

    return Ledger(settings.ledger, create=False)


def same_provider(ledger: Ledger, batch: str, provider: str) -> None:
    """A batch is paid through one provider; raises UsageError for another."""
    known = ledger.batch(batch)
    if known is not None and known.provider != provider:
        raise UsageError(
            f"batch {batch!r} was paid through {known.provider}, not {provider}; use a new batch id"
        )
