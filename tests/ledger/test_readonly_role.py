"""A read-only PostgreSQL role (``SELECT`` on the ledger's tables) is enough for ``report``,
as the README promises; a command that must write (``status``) names the role's missing
grant and exits 2, without a traceback."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from batchpay import api
from batchpay.config import load_settings
from tests.cli.helpers import cli, ended
from tests.conftest import TRON


def _read_only(url: str) -> str:
    """A role that may only read the ledger's tables; the URL that logs in as it."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP ROLE IF EXISTS reader"))
        conn.execute(sa.text("CREATE ROLE reader LOGIN"))
        conn.execute(sa.text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader"))
    engine.dispose()
    user = url.partition("://")[2].partition("@")[0]
    return url.replace(f"://{user}@", "://reader@", 1)


def test_a_read_only_role_writes_the_report_and_status_names_the_grant(
    workdir: Path, pg_url: str
) -> None:
    sheet = workdir / "s.csv"
    sheet.write_text(f"reference,amount,currency,network,address\nA1,10.5,USDT,TRON,{TRON[0]}\n")
    settings = load_settings({"ledger": pg_url}, environ={}, cwd=workdir)
    assert api.run(sheet, "sandbox", "b", settings=settings).exit_code == 0
    reader = _read_only(pg_url)
    try:
        for _ in range(2):  # the second finds no stamp recorded and writes the files again
            files = api.report("b", settings=load_settings({"ledger": reader}, environ={}))
            assert {f.name for f in files} >= {"reconciliation.csv", "reconciliation.html"}
        status = ended(cli("status", "--batch", "b", "--ledger", reader), 2)
        assert "may not do this" in status.stderr and "reader@" in status.stderr
    finally:
        engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP OWNED BY reader"))
            conn.execute(sa.text("DROP ROLE reader"))
        engine.dispose()
