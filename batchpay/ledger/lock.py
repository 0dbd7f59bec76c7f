"""One process per batch and SQLite ledger: an OS file lock, released by the OS if the process
dies. A PostgreSQL ledger is shared: several processes work one batch (rows are claimed in the
database), so no file lock is taken for it."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from batchpay.errors import BatchLocked, LedgerError
from batchpay.ledger.location import LedgerUrl, Location


def lock_path(ledger: Path, batch: str) -> Path:
    digest = hashlib.sha256(batch.encode()).hexdigest()[:16]
    return ledger.with_name(f"{ledger.name}.{digest}.lock")


@contextmanager
def batch_lock(ledger: Location, batch: str) -> Iterator[None]:
    """Hold ``batch`` in the SQLite ledger ``ledger`` for this process; raises BatchLocked
    when another process holds it. Takes nothing for a PostgreSQL ledger."""
    if isinstance(ledger, LedgerUrl):
        yield
        return
    path = lock_path(ledger, batch)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LedgerError(
            f"cannot create the lock file {path} beside the ledger: {exc.strerror or exc}; "
            "batchpay needs to write in the ledger's folder"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchLocked(
                f"another batchpay process is working on batch {batch!r} in {ledger}; "
                "wait for it to finish"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError:
            pass  # the pid is for a curious person; the lock is the flock, already held
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
