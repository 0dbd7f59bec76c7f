"""Runs started from the browser: each runs the library function in a thread of its own and
reports its progress here, where the server-sent events stream and the page read it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from batchpay.errors import BatchpayError
from batchpay.progress import Progress

log = logging.getLogger("batchpay.web")


@dataclass
class JobState:
    """What a page shows of a job: a snapshot, safe to read from another thread."""

    action: str
    label: str = "starting"
    total: int = 0
    done: int = 0
    finished: bool = False
    error: str | None = None
    exit_code: int | None = None
    version: int = 0

    def as_event(self) -> dict[str, object]:
        return {
            "action": self.action,
            "label": self.label,
            "total": self.total,
            "done": self.done,
            "finished": self.finished,
            "error": self.error,
            "exit_code": self.exit_code,
        }


@dataclass
class Job(Progress):
    state: JobState
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def _update(self, **values: object) -> None:
        with self._changed:
            for name, value in values.items():
                setattr(self.state, name, value)
            self.state.version += 1
            self._changed.notify_all()

    # the engine's Progress
    def start(self, label: str, total: int) -> None:
        self._update(label=label, total=total, done=0)

    def advance(self, n: int = 1) -> None:
        self._update(done=self.state.done + n)

    def done(self) -> None:
        self._update(done=self.state.total)

    def snapshot(self) -> JobState:
        with self._changed:
            return JobState(**{k: getattr(self.state, k) for k in JobState.__dataclass_fields__})

    def wait_change(self, seen: int, timeout: float) -> JobState:  # float-ok: seconds
        """The state once its version passes ``seen`` (or after ``timeout`` seconds)."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.state.version > seen or self.state.finished, timeout
            )
        return self.snapshot()


class Jobs:
    """At most one job per batch at a time."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, batch: str) -> Job | None:
        with self._lock:
            return self._jobs.get(batch)

    def start(self, batch: str, action: str, work: Callable[[Job], int]) -> Job | None:
        """Start ``work(job)`` (returning an exit code) in a thread; None if one runs."""
        with self._lock:
            running = self._jobs.get(batch)
            if running is not None and not running.state.finished:
                return None
            job = Job(JobState(action))
            self._jobs[batch] = job
        threading.Thread(target=_run, args=(job, work), daemon=True, name=f"web-{action}").start()
        return job


def _run(job: Job, work: Callable[[Job], int]) -> None:
    try:
        code = work(job)
        job._update(finished=True, exit_code=code, label="finished")
    except BatchpayError as exc:
        job._update(finished=True, exit_code=exc.exit_code, error=str(exc), label="stopped")
    except Exception:  # a bug must not leave the page waiting; the log has the traceback
        log.exception("web job %s failed", job.state.action)
        job._update(finished=True, exit_code=2, error="internal error (see the server log)")
