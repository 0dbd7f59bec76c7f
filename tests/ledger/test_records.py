"""Ledger rows are mapped to their dataclasses by column name, never by position."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa

from batchpay.ledger.connection import Rows, records


@dataclass(frozen=True)
class Pair:
    name: str
    amount: Decimal


def _cursor(sql: str) -> Rows:
    db = sa.create_engine("sqlite://").connect()
    db.exec_driver_sql("CREATE TABLE t (name TEXT, amount TEXT)")
    db.exec_driver_sql("INSERT INTO t VALUES ('a', '1.10')")
    return db.exec_driver_sql(sql)


def test_columns_named_as_the_fields_are_read_and_converted_by_name() -> None:
    found = records(Pair, _cursor("SELECT name, amount FROM t"), {"amount": Decimal})
    assert found == [Pair("a", Decimal("1.10"))]


def test_columns_in_another_order_are_refused_not_read_into_the_wrong_fields() -> None:
    with pytest.raises(TypeError, match="do not name the fields of Pair"):
        records(Pair, _cursor("SELECT amount, name FROM t"))


def test_a_misnamed_column_is_refused() -> None:
    with pytest.raises(TypeError):
        records(Pair, _cursor("SELECT name, amount AS money FROM t"))
