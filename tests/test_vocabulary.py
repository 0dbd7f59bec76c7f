"""One vocabulary: a payout's fields are defined once (``PayoutDetails``), the records that
carry them agree with it, they pass from one record to the next in one conversion, and the
ground floor (model, records, keys, statuses) imports nothing above it."""

from __future__ import annotations

import ast
import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest

from batchpay.keys import KeyForm, attempt_key, row_key
from batchpay.ledger import LedgerRow
from batchpay.model import PAYOUT_FIELDS, PayoutDetails, PayoutRow
from batchpay.plan import Existing, Plan, PlannedPayout
from batchpay.plan import keys as plan_keys
from batchpay.providers.base import PayoutRequest
from batchpay.records import Recent
from batchpay.statuses import RowStatus

PACKAGE = Path(__file__).resolve().parent.parent / "batchpay"


def _types(cls: type) -> dict[str, object]:
    return {f.name: f.type for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("record", [PayoutRow, LedgerRow, PayoutRequest])
def test_every_payout_record_carries_the_details_as_defined(record: type) -> None:
    types = _types(record)
    assert {name: types.get(name) for name in PAYOUT_FIELDS} == _types(PayoutDetails)


@pytest.mark.parametrize("record", [Existing, Recent])
def test_the_ledgers_comparison_records_agree_with_the_details(record: type) -> None:
    types, details = _types(record), _types(PayoutDetails)
    shared = [name for name in PAYOUT_FIELDS if name in types]
    assert shared == ["reference", "amount", "currency", "network", "address", "memo", "extra"]
    assert {name: types[name] for name in shared} == {name: details[name] for name in shared}


def _ledger_row() -> LedgerRow:
    return LedgerRow(
        batch_id="B",
        row_key=row_key("B", "E-1"),
        sheet_row=7,
        reference="E-1",
        name="Ann",
        description="salary",
        currency="USDT",
        network="TRON",
        address="T" * 34,
        memo="m-1",
        extra={"bank": "x"},
        amount_requested=Decimal("10.005"),
        amount=Decimal("10.00"),
        rounding_delta=Decimal("-0.005"),
        status=RowStatus.PLANNED,
        attempt_no=0,
        idempotency_key=None,
        provider_ref=None,
        fee=None,
        amount_sent=None,
        tx_hash=None,
        error_code=None,
        error_message=None,
        updated_at="2026-01-01T00:00:00+00:00",
    )


def test_a_ledger_row_gives_back_the_sheet_row_it_was_planned_from() -> None:
    row = _ledger_row()
    assert row.as_payout() == PayoutRow(
        7,
        "E-1",
        Decimal("10.005"),
        Decimal("10.00"),
        Decimal("-0.005"),
        "USDT",
        "TRON",
        "T" * 34,
        "m-1",
        "Ann",
        "salary",
        {"bank": "x"},
    )
    assert PayoutDetails.of(row.as_payout()) == PayoutDetails.of(row)


def test_the_engines_request_carries_every_detail_of_the_ledger_row() -> None:
    from batchpay.send.core import EngineCore

    class Stub:
        key_form = KeyForm.UUID

    engine = EngineCore(ledger=cast(Any, None), provider=cast(Any, Stub()), batch="B")
    engine.fee_option = "charge"
    row = _ledger_row()
    request = engine._request(row, 2)
    assert PayoutDetails.of(request) == PayoutDetails.of(row)
    assert (request.row_key, request.attempt, request.fee_option) == (row.row_key, 2, "charge")
    assert request.key == attempt_key(row.row_key, 2, KeyForm.UUID)


def test_the_planner_still_exports_the_moved_names() -> None:
    assert plan_keys.row_key is row_key
    assert Plan.__module__ == PlannedPayout.__module__ == Existing.__module__ == "batchpay.records"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_ledger_imports_nothing_from_the_planner() -> None:
    for path in sorted((PACKAGE / "ledger").glob("*.py")):
        assert not [m for m in _imports(path) if m.startswith("batchpay.plan")], path


GROUND = {"batchpay.model", "batchpay.records", "batchpay.keys", "batchpay.statuses"}
BELOW = GROUND | {"batchpay.money", "batchpay.problems"}


@pytest.mark.parametrize("module", sorted(GROUND))
def test_the_vocabulary_imports_nothing_above_it(module: str) -> None:
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    assert {m for m in _imports(path) if m.startswith("batchpay")} <= BELOW
