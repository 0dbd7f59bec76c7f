"""Claims and leases (batchpay.ledger.claims), on SQLite and on PostgreSQL: disjoint claims,
SKIP LOCKED, leases that expire on an injected clock (never a wait), the renewal fence, and
release. The lease times are given to each call, so no test depends on the wall clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from batchpay.ledger import Ledger
from batchpay.model import PayoutRow
from batchpay.plan import make_plan
from batchpay.statuses import RowStatus
from tests.conftest import TRON

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
PLANNED = [RowStatus.PLANNED]


def at(seconds: float) -> str:  # float-ok
    return (T0 + dt.timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def _rows(n: int) -> list[PayoutRow]:
    from decimal import Decimal

    return [
        PayoutRow(
            row=i + 2,
            reference=f"R-{i:03d}",
            amount_requested=Decimal("1.5"),
            amount=Decimal("1.5"),
            rounding_delta=Decimal(0),
            currency="USDT",
            network="TRON",
            address=TRON[i % 4],
        )
        for i in range(n)
    ]


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    with Ledger(ledger_url) as opened:
        opened.save_plan(
            make_plan("b", "2328io", "s.csv", "0" * 64, _rows(10)),
            sandbox=False,
            rounding="down",
            fee_option="deduct",
        )
        yield opened


def keys(rows: list) -> list[str]:  # type: ignore[type-arg]
    return [r.row_key for r in rows]


def test_two_workers_claim_disjoint_rows_in_sheet_order(ledger: Ledger) -> None:
    first = ledger.claim_rows("b", "w1", PLANNED, now=at(0), until=at(60), limit=4)
    second = ledger.claim_rows("b", "w2", PLANNED, now=at(0), until=at(60), limit=4)
    rest = ledger.claim_rows("b", "w3", PLANNED, now=at(0), until=at(60), limit=4)
    assert [len(first), len(second), len(rest)] == [4, 4, 2]
    everyone = keys(first) + keys(second) + keys(rest)
    assert len(set(everyone)) == 10
    assert [r.sheet_row for r in first + second + rest] == list(range(2, 12))
    assert ledger.claim_rows("b", "w4", PLANNED, now=at(1), until=at(61), limit=4) == []
    held = {lease.row_key: lease.owner for lease in ledger.leases("b")}
    assert held == {
        **dict.fromkeys(keys(first), "w1"),
        **dict.fromkeys(keys(second), "w2"),
        **dict.fromkeys(keys(rest), "w3"),
    }


def test_a_lease_expires_on_the_clock_given_and_the_fence_holds(ledger: Ledger) -> None:
    mine = ledger.claim_rows("b", "w1", PLANNED, now=at(0), until=at(120), limit=3)
    # w1 dies here: its rows are nobody else's until the lease's end ...
    assert ledger.claim_rows("b", "w2", PLANNED, now=at(119), until=at(239), limit=3) != mine
    # ... and anybody's from then on
    taken = ledger.claim_rows("b", "w3", PLANNED, now=at(120), until=at(240), limit=20)
    assert set(keys(mine)) <= set(keys(taken))
    # w1 comes back: its renewal finds the rows taken over, so it may not send them
    assert ledger.renew_leases("b", "w1", keys(mine), until=at(300)) == set()
    assert ledger.renew_leases("b", "w3", keys(mine), until=at(300)) == set(keys(mine))


def test_a_worker_takes_its_own_rows_back_at_once_and_release_frees_them(ledger: Ledger) -> None:
    mine = ledger.claim_rows("b", "w1", PLANNED, now=at(0), until=at(120), limit=3)
    again = ledger.claim_rows("b", "w1", PLANNED, now=at(1), until=at(121), limit=3)
    assert keys(again) == keys(mine)  # the same name after a restart: no waiting
    ledger.release_leases("b", "w1")
    assert ledger.leases("b") == []
    assert keys(ledger.claim_rows("b", "w2", PLANNED, now=at(2), until=at(122), limit=3)) == keys(
        mine
    )


def test_claims_follow_the_status_and_go_on_after_a_row(ledger: Ledger) -> None:
    window = ledger.claim_rows("b", "w1", PLANNED, now=at(0), until=at(60), limit=3)
    after = (window[-1].sheet_row, window[-1].row_key)
    assert ledger.claim_rows("b", "w1", [RowStatus.SENDING], now=at(0), until=at(60), limit=9) == []
    nxt = ledger.claim_rows("b", "w1", PLANNED, now=at(0), until=at(60), limit=3, after=after)
    assert [r.sheet_row for r in nxt] == [5, 6, 7]


def test_skip_locked_passes_rows_another_claim_is_taking(pg_url: str) -> None:
    with Ledger(pg_url) as ledger:
        ledger.save_plan(
            make_plan("b", "2328io", "s.csv", "0" * 64, _rows(6)),
            sandbox=False,
            rounding="down",
            fee_option="deduct",
        )
        engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as other:  # a claim in progress holds the first two rows
            other.execute(
                sa.text(
                    "SELECT row_key FROM payouts WHERE batch_id = 'b' ORDER BY sheet_row"
                    " LIMIT 2 FOR UPDATE"
                )
            )
            got = ledger.claim_rows("b", "w2", PLANNED, now=at(0), until=at(60), limit=3)
            other.rollback()
        engine.dispose()
        assert [r.sheet_row for r in got] == [4, 5, 6]
