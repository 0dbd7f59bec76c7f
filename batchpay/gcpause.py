"""Pause Python's cyclic garbage collector while a stage builds large lists of rows.

A payroll stage allocates hundreds of thousands of small objects (frames of strings, row
records, report rows) and creates no reference cycles. The collector does not know that:
each time the heap grows by a quarter it scans all of it, which cost more than half of the
time of reading a 100k-row ledger and validating a 1M-row sheet. The collector is paused
once, at the api boundary (:func:`gc_paused` on the commands that build or read many rows,
:func:`paused_gc` around the bulk steps of the others); it resumes (and catches up) when the
outermost pause ends. Sending is never paused: it is long-running and allocates per request.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class _Pause:
    """Nesting-safe: only the outermost pause touches the collector, and restores it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    def enter(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1

    def leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._was_enabled:
                gc.enable()


_PAUSE = _Pause()  # the collector is process state, so its pause is too


@contextmanager
def paused_gc() -> Iterator[None]:
    _PAUSE.enter()
    try:
        yield
    finally:
        _PAUSE.leave()


def gc_paused(function: Callable[P, T]) -> Callable[P, T]:
    """Run ``function`` with the collector paused (see the module docstring)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with paused_gc():
            return function(*args, **kwargs)

    return wrapper
