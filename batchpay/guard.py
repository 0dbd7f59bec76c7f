"""What every command on a batch checks before anything is sent, and what it does when it is
stopped after money has moved.

Before: the batch id is a plain name (:func:`check_batch_id`), and the report folder can be
written (:func:`check_report_dir`). Both fail with exit 2 and nothing sent.

After payouts have left, nothing may end in a traceback or in an exit code that says "nothing
was sent". :func:`guarded` wraps ``run``, ``retry`` and ``status``:

- an error (a full disk under the ledger, a report folder that vanished, a bug) becomes
  :class:`~batchpay.errors.StoppedAfterPayouts` (exit 3), after the report was written where
  it could be: the report folder, else a new temporary folder;
- Ctrl-C or SIGTERM becomes :class:`~batchpay.errors.Interrupted` (exit 130 / 143), after the
  same report, with how many rows were sent and how many not. The ledger is exact as after a
  crash: rows in flight stay ``sending`` and the next run resolves them with the provider.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import re
import signal
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from batchpay.config import Settings, load_settings
from batchpay.errors import (
    BatchpayError,
    Interrupted,
    ReportUnwritable,
    StoppedAfterPayouts,
    UsageError,
)
from batchpay.model import RowStatus

if TYPE_CHECKING:
    from batchpay.ledger import LedgerRow, Location
    from batchpay.providers.base import Answer, PayoutRequest, Provider
    from batchpay.report.model import BatchSummary
    from batchpay.send import Engine

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

MAX_BATCH_ID = 64
_BATCH_ID = re.compile(r"[A-Za-z0-9_.\-]+")

# The engines a guarded command built, so the guard knows whether payouts left.
_ENGINES: contextvars.ContextVar[list[Engine] | None] = contextvars.ContextVar(
    "batchpay_engines", default=None
)

# Rows a person has to look at after a command, and what to say about rows without an error.
ATTENTION = (
    RowStatus.PLANNED,
    RowStatus.SENDING,
    RowStatus.UNKNOWN,
    RowStatus.FAILED,
    RowStatus.CANCELLED,
    RowStatus.NEEDS_REVIEW,
)
_NO_REASON = {
    RowStatus.PLANNED: "not sent",
    RowStatus.SENDING: "outcome not recorded; the next run asks the provider",
    RowStatus.UNKNOWN: "outcome unknown; the next run asks the provider",
}


def check_batch_id(batch: str) -> None:
    """A batch id names files and folders: letters, digits, ``-``, ``_`` and ``.``, at most
    MAX_BATCH_ID characters, and not ``.`` or ``..``."""
    if _BATCH_ID.fullmatch(batch) and len(batch) <= MAX_BATCH_ID and batch not in (".", ".."):
        return
    shown = batch if len(batch) <= 40 else batch[:40] + "..."
    raise UsageError(
        f"--batch {shown!r} ({len(batch)} characters) is not a usable batch id: use 1 to "
        f"{MAX_BATCH_ID} letters (A-Z, a-z), digits, '-', '_' or '.', not '.' or '..' "
        "(for example payroll-2026-11)"
    )


def check_report_dir(directory: Path) -> None:
    """The report folder is a folder, or can be created as one, and can be written. Creates
    nothing, so a dry run can ask too."""
    if directory.exists() and not directory.is_dir():
        raise ReportUnwritable(f"the report folder {directory} is a file, not a folder")
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ReportUnwritable(f"cannot create the report folder {directory}: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK) or not _can_create_in(probe):
        raise ReportUnwritable(
            f"cannot write the report folder {directory}: {probe} is not writable"
        )


def _can_create_in(folder: Path) -> bool:
    """Whether a file can really be created in ``folder``: the access check answers yes to
    root everywhere, also in /proc, /sys or a folder a security module guards. The probe file
    is removed at once."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".batchpay-probe-"):
            return True
    except OSError:
        return False


class _Counted:
    """The engine's provider, noting which rows' payout requests left (for "N sent")."""

    def __init__(self, inner: Provider) -> None:
        self._inner = inner
        self.sent: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        if name == "_inner":  # not set yet (a copy): no recursion
            raise AttributeError(name)
        return getattr(self._inner, name)

    def create(self, request: PayoutRequest) -> Answer:
        from batchpay.providers.base import Disposition  # providers load httpx: not at start-up

        self.sent.add(request.row_key)  # in flight counts as sent: it may arrive
        answer = self._inner.create(request)
        if answer.disposition is Disposition.NOT_SENT:  # provably never reached the provider
            self.sent.discard(request.row_key)
        return answer


def watch(engine: Engine) -> Engine:
    """Register an engine with the guarded command that built it."""
    engines = _ENGINES.get()
    if engines is not None:
        engine.provider = cast("Provider", _Counted(engine.provider))
        engines.append(engine)
    return engine


def _sent(engines: list[Engine]) -> set[str]:
    """Row keys whose payout request left during this command."""
    return set().union(*(getattr(e.provider, "sent", set()) for e in engines))


def guarded(action: str) -> Callable[[F], F]:
    """Wrap ``run``, ``retry`` or ``status`` (their first arguments: ``batch`` and
    ``settings``) with the checks before and the reporting after (see the module text)."""

    def decorate(command: F) -> F:
        signature = inspect.signature(command)

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            batch = bound.arguments["batch"]
            settings = bound.arguments.get("settings") or load_settings()
            bound.arguments["settings"] = settings
            dry_run = bool(bound.arguments.get("dry_run"))
            check_batch_id(batch)
            check_report_dir(settings.report_dir_for(batch))
            engines: list[Engine] = []
            token = _ENGINES.set(engines)
            try:
                result = command(*bound.args, **bound.kwargs)
            except Interrupted:
                raise
            except KeyboardInterrupt as exc:
                raise _interrupted(exc, action, batch, settings, engines, dry_run) from None
            except Exception as exc:
                if sum(e.requests for e in engines):
                    raise _after_payouts(exc, batch, settings) from None
                if isinstance(exc, OSError):
                    raise _unwritable(exc, settings.report_dir_for(batch)) from None
                raise
            finally:
                _ENGINES.reset(token)
            _explain_stop(result, engines)
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


def report_guard(write: Callable[[], T]) -> T:
    """``report``: a folder that cannot be written is a clear error, not a traceback."""
    try:
        return write()
    except OSError as exc:
        raise ReportUnwritable(_cause(exc)) from None


def attention(
    ledger_path: Location | None, batch: str, limit: int
) -> tuple[list[LedgerRow], int]:
    """Up to ``limit`` rows a person has to look at (not sent, unknown, failed, cancelled,
    in review), in sheet order, and how many there are in all."""
    from batchpay.ledger import Ledger

    if ledger_path is None:
        return [], 0
    with Ledger(ledger_path, create=False) as ledger:
        rows = ledger.rows(batch, ATTENTION)
    return rows[:limit], len(rows)


def reason(row: LedgerRow, now: datetime | None = None) -> str:
    """Why ``row`` needs a look: its error, or for a row without one what happens next. A row
    another worker holds under a live lease (PostgreSQL) says whose it is and until when (UTC),
    since nobody touches it before then."""
    held = _held_by(row, now or datetime.now(UTC))
    if held:
        return held
    return row.error_message or row.error_code or _NO_REASON.get(row.status, "")


def _held_by(row: LedgerRow, now: datetime) -> str:
    if row.status not in (RowStatus.PLANNED, RowStatus.SENDING) or not row.lease_owner:
        return ""
    try:
        until = datetime.fromisoformat(row.lease_until or "")
    except ValueError:
        return ""
    if until.tzinfo is None or until <= now:
        return ""
    return (
        f"held by worker {row.lease_owner} until {until.astimezone(UTC):%H:%M:%S} UTC; if it "
        "stopped, the next run or status after that asks the provider"
    )


# -- after the fact -------------------------------------------------------------------------


def _explain_stop(result: Any, engines: list[Engine]) -> None:
    """A provider that refused the credentials or could not be reached is said so, also by a
    command that does not send (status); refused credentials exit 2."""
    from batchpay.send.breaker import explain

    for engine in engines:
        breaker = engine.breaker
        if breaker.last is None or not (breaker.open or breaker.failures):
            continue
        if breaker.kind == "credentials":
            result.stop_exit = 2
        if result.stopped is None:
            result.stopped = explain(engine.provider.name, breaker)


def _unwritable(exc: OSError, folder: Path | None = None) -> ReportUnwritable:
    return ReportUnwritable(f"{_cause(exc, folder)}; nothing was sent")


def _cause(exc: BaseException, folder: Path | None = None) -> str:
    if isinstance(exc, BatchpayError):
        return str(exc)
    if isinstance(exc, OSError):
        into = f" into {folder}" if folder is not None else ""
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(folder) else ""
        return f"cannot write the report files{into}: {exc.strerror or exc}{where}"
    return f"internal error ({type(exc).__name__}: {exc})"


def _after_payouts(exc: Exception, batch: str, settings: Settings) -> StoppedAfterPayouts:
    files, _, note = _write_what_we_can(batch, settings)
    where = f"report: {files[0].parent}" if files else f"no report could be written ({note})"
    cause = _cause(exc, settings.report_dir_for(batch))
    return StoppedAfterPayouts(
        f"{cause}. Payouts had already left: the ledger holds every payout it committed, "
        "and rows whose answer was not recorded stay 'sending' until the next run "
        f"asks the provider. {where}. Fix the cause, then run the same command again.",
        files,
    )


def _interrupted(
    exc: KeyboardInterrupt,
    action: str,
    batch: str,
    settings: Settings,
    engines: list[Engine],
    dry_run: bool,
) -> Interrupted:
    signum = int(getattr(exc, "signum", signal.SIGINT))
    if dry_run or not engines:
        return Interrupted(signum, "interrupted before anything was sent")
    files, _, note = _write_what_we_can(batch, settings)
    sent = _sent(engines)
    unsent = None if action == "status" else _unsent(batch, settings, action, sent)
    if action == "status":
        text = "interrupted: status sends nothing and the ledger is exact"
    elif unsent is None:
        text = f"interrupted: {len(sent)} sent"
    else:
        text = f"interrupted: {len(sent)} sent, {unsent} not sent"
    where = f"report: {files[0].parent}" if files else f"no report was written ({note})"
    return Interrupted(signum, f"{text}; run the same command again. {where}", files)


def _unsent(batch: str, settings: Settings, action: str, sent: set[str]) -> int | None:
    """Rows the command was to send whose request never left: still planned (or failed, for
    retry), or ``sending`` with the intent committed but the request never started."""
    from batchpay.ledger import Ledger

    waiting = [RowStatus.PLANNED, RowStatus.SENDING]
    if action == "retry":
        waiting.append(RowStatus.FAILED)
    try:
        with Ledger(settings.ledger, create=False) as ledger:
            return sum(1 for row in ledger.rows(batch, waiting) if row.row_key not in sent)
    except BatchpayError:
        return None


def _write_what_we_can(
    batch: str, settings: Settings
) -> tuple[list[Path], BatchSummary | None, str]:
    """Write the report from the ledger into the report folder, else a new temporary folder;
    return the files, the summary and, if no file was written, why."""
    from batchpay.ledger import Ledger, batch_lock
    from batchpay.report import FORMATS, build_report, write_report

    try:
        with batch_lock(settings.ledger, batch), Ledger(settings.ledger, create=False) as ledger:
            if ledger.batch(batch) is None:
                return [], None, "the batch has no rows in the ledger yet"
            built = build_report(ledger, batch)
    except (BatchpayError, OSError) as exc:
        return [], None, str(exc)
    summary = built.summary()
    notes = []
    for folder in (settings.report_dir_for(batch), None):
        try:
            target = folder or Path(tempfile.mkdtemp(prefix=f"batchpay-{batch}-"))
            return write_report(built, target, FORMATS, settings.accounts), summary, ""
        except OSError as exc:
            notes.append(_cause(exc, folder))
    return [], summary, "; ".join(notes)
