"""What the command line prints, and how a command ends.

Every text that comes from a sheet, the ledger, a provider or an error is printed literally:
the consoles interpret no markup and no emoji codes, styled words are ``Text`` parts, and
control characters (an escape sequence in a name, a bidi override in a reference) are shown as
``\\x..`` escapes instead of being sent to the terminal.

:class:`BatchpayGroup` ends every command the same way: Ctrl-C exits 130 and SIGTERM 143 with
one sentence and no traceback, a closed stdout (``batchpay status | head -1``) exits 141
quietly, and an unexpected error is one line, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from batchpay.errors import (
    BatchpayError,
    Interrupted,
    SheetRejected,
    StoppedAfterPayouts,
    Terminated,
)
from batchpay.problems import Problem
from batchpay.progress import Progress


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich would exit 1 here, the code for a rejected sheet: hand it to BatchpayGroup."""
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "the reader of the output has gone")


out = _Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = _Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
if not out.is_terminal:
    out.width = 200  # piped or logged: do not fold tables at 80 columns

EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that went away
ATTENTION_LIMIT = 10


def literal(value: object, *, newlines: bool = False) -> str:
    """``value`` as text a terminal shows as it is: control and invisible characters escaped."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() or (newlines and c == "\n") else repr(c)[1:-1] for c in text
    )


def say(*parts: str | tuple[str, str], console: Console = out) -> None:
    """Print plain strings literally and ``(text, style)`` pairs styled."""
    console.print(Text.assemble(*((literal(p), "") if isinstance(p, str) else p for p in parts)))


def table(columns: Iterable[str], rows: Iterable[Iterable[object]]) -> Table:
    grid = Table()
    for col in columns:
        grid.add_column(col, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(literal("" if cell is None else cell)) for cell in row))
    return grid


class TerminalProgress(Progress):
    """A bar on a terminal; plain lines otherwise (logs, CI)."""

    live: ClassVar[set[TerminalProgress]] = set()  # bars on screen, stopped before a final message

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._label = ""
        self._total = 0
        self._done = 0

    def start(self, label: str, total: int) -> None:
        self._label, self._total, self._done = label, total, 0
        if err.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(literal(label), total=total)
            TerminalProgress.live.add(self)
        else:
            say(f"{label}: {total} row(s)", console=err)

    def advance(self, n: int = 1) -> None:
        self._done += n
        if self._bar is not None:
            self._bar.update(self._task, advance=n)

    def stop(self) -> None:
        """Take the bar off the screen (the cursor ends on a fresh line)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        TerminalProgress.live.discard(self)

    def done(self) -> None:
        self.stop()
        say(f"{self._label}: {self._done}/{self._total} done", console=err)

    @classmethod
    def stop_all(cls) -> None:
        for bar in list(cls.live):
            bar.stop()


def print_problems(problems: list[Problem]) -> None:
    if not problems:
        return
    out.print(
        table(
            ("row", "column", "severity", "code", "message"),
            ((p.row or "", p.column or "", p.severity, p.code, p.message) for p in problems),
        )
    )
    by_code = Counter(p.code for p in problems)
    say("  " + ", ".join(f"{code}: {n}" for code, n in sorted(by_code.items())))


def fail(exc: BatchpayError, as_json: bool, emit_json: Any = None) -> NoReturn:
    TerminalProgress.stop_all()  # a bar left on screen would swallow the end of its line
    if as_json and emit_json is not None and isinstance(exc, StoppedAfterPayouts):
        emit_json({"error": str(exc), "report_files": [str(p) for p in exc.report_files]})
    if isinstance(exc, SheetRejected):
        if as_json and emit_json is not None:
            emit_json({"error": str(exc), "issues": [p.to_json() for p in exc.problems]})
        else:
            print_problems(exc.problems)
            say(("rejected: ", "bold red"), str(exc), console=err)
    else:
        say(("error: ", "bold red"), literal(exc, newlines=True), console=err)
    sys.exit(exc.exit_code)


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


class BatchpayGroup(click.Group):
    """The top-level group: how every command ends (see the module text)."""

    def invoke(self, ctx: click.Context) -> Any:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()  # a reader that went away shows here at the latest
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            _closed_pipe()
        except Interrupted as exc:
            _interrupted(exc.message, exc.exit_code)
        except KeyboardInterrupt as exc:  # outside a batch command: nothing was sent
            signum = int(getattr(exc, "signum", signal.SIGINT))
            _interrupted("interrupted; nothing was sent", 128 + signum)
        except BatchpayError as exc:
            fail(exc, False)
        except Exception as exc:
            TerminalProgress.stop_all()
            reason = _output_failed(exc)
            if reason is not None:  # the command ended; only what it printed was lost
                _stdout_to_devnull()
                say(
                    ("error: ", "bold red"),
                    f"cannot write the output ({reason}); the ledger and the report files hold"
                    " the outcome: see them, or run the command again with a working stdout",
                    console=err,
                )
                _exit(3 if ctx.invoked_subcommand in ("run", "retry") else 2)
            say(
                ("error: ", "bold red"),
                f"internal error ({type(exc).__name__}: {literal(exc)}); nothing more was done. "
                "Please report it; set BATCHPAY_DEBUG=1 to see where it happened.",
                console=err,
            )
            if os.environ.get("BATCHPAY_DEBUG"):
                raise
            sys.exit(2)
        finally:
            signal.signal(signal.SIGTERM, previous)


def _interrupted(message: str, code: int) -> NoReturn:
    TerminalProgress.stop_all()
    say(("interrupted", "bold yellow"), message.removeprefix("interrupted"), console=err)
    _exit(code)


def _closed_pipe() -> NoReturn:
    """Whoever read stdout has gone (``| head -1``): not an error of the sheet. Send the rest of
    stdout nowhere, so the interpreter's own last flush does not complain, and exit 141."""
    _stdout_to_devnull()
    _exit(EXIT_CLOSED_PIPE)


def _stdout_to_devnull() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file descriptor (a test runner's capture), or no stdout at all


def _output_failed(exc: Exception) -> str | None:
    """Why stdout cannot be written (a full disk under ``> out.json``, a closed descriptor),
    when that is what ``exc`` came from; None for any other error."""
    if sys.stdout is None:
        return "stdout is closed"
    if not isinstance(exc, OSError):
        return None
    frame = exc.__traceback__
    while frame is not None:  # raised while printing: rich's buffer or click.echo
        code = frame.tb_frame.f_code
        if (code.co_name, Path(code.co_filename).parent.name) in _PRINTING:
            return exc.strerror or str(exc)
        frame = frame.tb_next
    return None


_PRINTING = {("_check_buffer", "rich"), ("_write_buffer", "rich"), ("echo", "click")}


def _exit(code: int) -> NoReturn:
    """Exit with ``code``. Requests still in flight after Ctrl-C are abandoned, as in a crash
    (their rows are ``sending`` and the next run resolves them): a real process does not wait
    for them."""
    waiting = [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.is_alive() and not t.daemon
    ]
    if waiting and sys.stdout is sys.__stdout__:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()  # type: ignore[union-attr]
        os._exit(code)
    sys.exit(code)
