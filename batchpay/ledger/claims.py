"""Claims and leases: several workers on one batch (PostgreSQL).

A worker *claims* a window of rows in one short transaction: ``SELECT ... FOR UPDATE SKIP
LOCKED`` picks rows no other claim is taking at this moment, and each picked row gets a
*lease*: the worker's id and an expiry (``payouts.lease_owner``, ``payouts.lease_until``, UTC
ISO-8601 text, as every time in the ledger). A row is claimable when it has no lease, when its
lease is the claimer's own, or when its lease has expired. So N workers on N hosts send
disjoint rows, and the rows of a worker that died (left ``sending``, their intents committed)
are taken by another worker once the lease expires, and settled the way a resume settles
them: looked up at the provider before anything is sent again.

The lease is also the fence: before a window's intents are committed the worker renews the
leases it still owns (:meth:`Leases.renew_leases`) and drops the rows it lost; the engine sends no
request after the lease's expiry on its own clock (:class:`batchpay.send.claiming.Claimer`).

Every claiming transaction first locks the batch's row in ``batches`` (the triggers that keep
the batch's revision lock it on every write), so transactions take their locks in one order
and never deadlock. On SQLite the file lock keeps one process per batch and the engine does
not claim; the statements still run there (without the row locks), for the tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from batchpay.errors import BatchLocked
from batchpay.ledger.connection import Db, records
from batchpay.ledger.queries import _LEDGER_ROW_TYPES, _ROW_COLUMNS
from batchpay.ledger.rows import LedgerRow
from batchpay.statuses import RowStatus

_CLAIMABLE = (
    f"SELECT {_ROW_COLUMNS} FROM payouts WHERE batch_id = :b AND status IN :in_statuses"
    " AND (lease_owner IS NULL OR lease_owner = :w OR lease_until IS NULL OR lease_until <= :now)"
)
_AFTER = " AND (sheet_row > :row OR (sheet_row = :row AND row_key > :key))"
_ORDER = " ORDER BY sheet_row, row_key LIMIT :limit"
_TAKE = (
    "UPDATE payouts SET lease_owner = :w, lease_until = :until"
    " WHERE batch_id = :b AND row_key IN :in_keys"
)
_RENEW = (
    "UPDATE payouts SET lease_until = :until"
    " WHERE batch_id = :b AND lease_owner = :w AND row_key IN :in_keys RETURNING row_key"
)
_RELEASE = (
    "UPDATE payouts SET lease_owner = NULL, lease_until = NULL"
    " WHERE batch_id = :b AND lease_owner = :w"
)
_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(hashtext(:b), hashtext(:w))")
_LEASES = (
    "SELECT row_key, lease_owner, lease_until FROM payouts"
    " WHERE batch_id = :b AND lease_owner IS NOT NULL"
)


@dataclass(frozen=True)
class Lease:
    """Who holds a row, and until when (UTC ISO-8601)."""

    row_key: str
    owner: str
    until: str


class Leases:
    """The ledger's claims and leases, on its connection (one transaction each)."""

    _db: Db

    def claim_rows(
        self,
        batch_id: str,
        worker: str,
        statuses: Iterable[RowStatus],
        *,
        now: str,
        until: str,
        limit: int,
        after: tuple[int, str] | None = None,
    ) -> list[LedgerRow]:
        """Claim up to ``limit`` claimable rows in ``statuses`` for ``worker`` until ``until``,
        in sheet order after the row ``after`` ((sheet_row, row_key); None: from the top).
        Rows another transaction is claiming are skipped, not waited for."""
        sql = _CLAIMABLE + (_AFTER if after is not None else "") + _ORDER
        params: dict[str, Any] = {
            "b": batch_id,
            "w": worker,
            "now": now,
            "limit": limit,
            "in_statuses": [str(s) for s in statuses],
        }
        if after is not None:
            params["row"], params["key"] = after
        postgres = self._db.dialect == "postgresql"
        with self._db.transaction() as db:
            db.lock_batch(batch_id)
            rows = records(
                LedgerRow,
                db.execute(sql + (" FOR UPDATE SKIP LOCKED" if postgres else ""), params),
                _LEDGER_ROW_TYPES,
            )
            if rows:
                keys = [r.row_key for r in rows]
                db.execute(_TAKE, {"b": batch_id, "w": worker, "until": until, "in_keys": keys})
        return rows

    def renew_leases(self, batch_id: str, worker: str, keys: list[str], *, until: str) -> set[str]:
        """Extend ``worker``'s leases on ``keys`` to ``until``; return the keys it still held
        (a row another worker claimed after the lease expired is not renewed)."""
        if not keys:
            return set()
        with self._db.transaction() as db:
            db.lock_batch(batch_id)
            found = db.execute(
                _RENEW, {"b": batch_id, "w": worker, "until": until, "in_keys": keys}
            )
            return {str(row[0]) for row in found}

    def release_leases(self, batch_id: str, worker: str) -> None:
        """Give up every lease ``worker`` holds in the batch (at the end of its run)."""
        with self._db.transaction() as db:
            db.lock_batch(batch_id)
            db.execute(_RELEASE, {"b": batch_id, "w": worker})

    def worker_lock(self, batch_id: str, worker: str, *, tries: int = 50) -> Connection:
        """Hold ``batch_id`` for the worker named ``worker``: one process per name and batch,
        as the file lock holds one process per batch on SQLite. The lock is a PostgreSQL
        session advisory lock on a connection of its own, returned to the caller, who keeps
        it open while it works; the server releases it when that connection closes, or when
        the process dies. A dead holder's connection may take a moment to be noticed, so a
        held lock is asked again (``tries`` times, a tenth of a second apart) before
        BatchLocked is raised."""
        connection = self.side_connection()
        try:
            for attempt in range(tries):
                if connection.execute(_TRY_LOCK, {"b": batch_id, "w": worker}).scalar():
                    return connection
                if attempt + 1 < tries:
                    time.sleep(0.1)
        except BaseException:
            connection.close()
            raise
        connection.close()
        raise BatchLocked(
            f"another batchpay process is working on batch {batch_id!r} as worker {worker!r}; "
            f"wait for it to finish, or give each worker its own name in BATCHPAY_WORKER"
        )

    def side_connection(self) -> Connection:
        """A second connection to the ledger's database, in autocommit mode, for work beside
        the ledger's own transactions (the shared rate limit); the caller closes it."""
        return self._db.engine.connect()

    def leases(self, batch_id: str) -> list[Lease]:
        """Every lease held in the batch, expired or not."""
        found = self._db.execute(_LEASES + " ORDER BY row_key", {"b": batch_id})
        rows: list[tuple[Any, ...]] = [tuple(row) for row in found]
        return [Lease(str(k), str(o), str(u)) for k, o, u in rows]
