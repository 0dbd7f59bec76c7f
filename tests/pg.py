"""A throwaway PostgreSQL cluster for the tests: ``initdb`` and ``pg_ctl`` in a temporary folder,
listening on a Unix socket only (no TCP port), with fsync off (its data is thrown away).

The server binaries are Debian's (``/usr/lib/postgresql/*/bin``) or on PATH. PostgreSQL refuses
to run as root: as root, the cluster runs as the ``postgres`` user (Debian's package makes it)
or, failing that, ``nobody``, and its folder belongs to that user. A database per test is a
copy of a template that already holds the ledger's schema, so a test starts in milliseconds.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

SUPERUSER = "batchpay_test"


def server_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres; None when PostgreSQL is not installed."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return None if found is None else Path(found).parent


def _runner() -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) to run the server binaries as a user other than root."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        return prefix, user.pw_uid, user.pw_gid
    raise RuntimeError("running as root and there is no postgres or nobody user to run as")


class Cluster:
    """initdb + pg_ctl start; :meth:`stop` ends it and removes its folder."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.prefix, uid, gid = _runner()
        self.root = Path(tempfile.mkdtemp(prefix="batchpay-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.socket = self.root / "socket"
        self.socket.mkdir()
        if uid is not None and gid is not None:
            os.chown(self.root, uid, gid)
            os.chown(self.socket, uid, gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        options = (
            f"-k {self.socket} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-s",
            "start",
        )
        self.template = "batchpay_template"
        self._sql(f"CREATE DATABASE {self.template}")
        self._migrate_template()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.prefix, str(self.binaries / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.root,
        )

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket}"

    def _sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(
            host=str(self.socket), user=SUPERUSER, dbname="postgres", autocommit=True
        ) as db:
            db.execute(statement.encode())  # test DDL, no user input

    def _migrate_template(self) -> None:
        from batchpay.ledger import Ledger

        Ledger(self.url(self.template)).close()

    def new_database(self) -> str:
        """A fresh, migrated, empty ledger database; its URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        self._sql(f"CREATE DATABASE {name} TEMPLATE {self.template} STRATEGY FILE_COPY")
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        self._sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-s", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
