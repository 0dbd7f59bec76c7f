"""Stage 2, validate: a :class:`~batchpay.ingest.Sheet` becomes valid rows plus problems.

Every problem in the sheet is collected (pandera runs lazily); rows with an error are left out of
``rows``, and any error means nothing may be sent. Amounts are brought to the allowed decimal
places here, under the rounding policy, and every change is recorded as a :class:`Rounding`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from batchpay.ingest import Sheet
from batchpay.model import PayoutRow, Rounding
from batchpay.money import RoundingPolicy, TooPrecise, apply_scale, parse_amount
from batchpay.problems import Problem, has_errors, sort_key
from batchpay.resources import load_schema_file
from batchpay.validate.headers import HeaderMap, alias_table, map_headers
from batchpay.validate.rules import rules_for, run_rules
from batchpay.validate.tables import Tables, load_tables

__all__ = ["Validated", "sheet_kind", "validate_sheet"]

_UPPER = ("currency", "country_code", "payout_currency", "from_currency")
_CORE = ("reference", "amount", "currency", "network", "address", "memo", "name", "description")


@dataclass
class Validated:
    kind: str  # "crypto" or "fiat"
    rows: list[PayoutRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    roundings: list[Rounding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


def sheet_kind(provider: str | None, headers: list[str]) -> str:
    spec = load_schema_file("columns.toml")["kind"]
    if provider is not None:
        for kind, kind_spec in spec.items():
            if provider in kind_spec["providers"]:
                return str(kind)
    aliases = alias_table()
    named = {aliases.get(h.strip().lower(), h.strip().lower()) for h in headers}
    return "fiat" if "payout_currency" in named and "address" not in named else "crypto"


def validate_sheet(
    sheet: Sheet,
    provider: str | None = None,
    policy: RoundingPolicy = RoundingPolicy.DOWN,
    tables: Tables | None = None,
) -> Validated:
    tables = tables or load_tables()
    columns = load_schema_file("columns.toml")
    kind = sheet_kind(provider, sheet.headers)
    kind_spec = columns["kind"][kind]
    required = [*columns["common"]["required"], *kind_spec["required"]]
    known = set(required) | set(columns["common"]["optional"]) | set(kind_spec["optional"])
    header_map = map_headers(sheet.headers, known, kind_spec.get("prefix"), sheet.header_row)
    result = Validated(kind, problems=list(header_map.problems))
    result.problems += _missing_columns(required, header_map, sheet.header_row)
    if has_errors(result.problems):
        result.problems.sort(key=sort_key)
        return result
    frame = _canonical_frame(sheet, header_map, known, tables)
    result.problems += run_rules(frame, rules_for(kind, tables))
    bad_rows = {p.row for p in result.problems if p.severity == "error" and p.row is not None}
    _finish_rows(result, frame, bad_rows, provider, policy, tables)
    result.problems.sort(key=sort_key)
    return result


def _missing_columns(required: list[str], header_map: HeaderMap, header_row: int) -> list[Problem]:
    problems = []
    aliases = load_schema_file("aliases.toml")
    for column in required:
        if column in header_map.columns:
            continue
        if column == "currency" and header_map.implied_currency:
            continue
        others = aliases.get(column, [])[:4]
        hint = f" (also accepted: {', '.join(others)})" if others else ""
        problems.append(
            Problem(
                "column.missing",
                f"required column {column!r} is missing{hint}",
                row=header_row,
                column=column,
            )
        )
    return problems


def _canonical_frame(
    sheet: Sheet, header_map: HeaderMap, known: set[str], tables: Tables
) -> pd.DataFrame:
    """Canonical column names, trimmed cells, every known column present (empty if absent)."""
    frame = sheet.frame[list(header_map.by_position)].copy()
    frame.columns = [header_map.by_position[p] for p in header_map.by_position]
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    for column in sorted(known | set(_CORE) | set(_UPPER)):
        if column not in frame.columns:
            frame[column] = ""
    if header_map.implied_currency and "currency" not in header_map.columns:
        frame["currency"] = header_map.implied_currency
    for column in _UPPER:
        frame[column] = frame[column].str.upper()
    frame["network"] = frame["network"].map(
        lambda n: tables.canonical_network(n) or n.upper() if n else ""
    )
    return frame


def _finish_rows(
    result: Validated,
    frame: pd.DataFrame,
    bad_rows: set[int],
    provider: str | None,
    policy: RoundingPolicy,
    tables: Tables,
) -> None:
    extra_columns = [c for c in frame.columns if c not in _CORE]
    for row_number, record in zip(frame.index, frame.to_dict("records"), strict=True):
        number = int(row_number)
        if number in bad_rows:
            continue
        row = _build_row(number, record, extra_columns, provider, policy, tables, result)
        if row is not None:
            result.rows.append(row)


def _build_row(
    number: int,
    record: dict[str, Any],
    extra_columns: list[str],
    provider: str | None,
    policy: RoundingPolicy,
    tables: Tables,
    result: Validated,
) -> PayoutRow | None:
    requested = parse_amount(record["amount"])
    network = record["network"] or None
    places = tables.scale(record["currency"], network, provider)
    if places is None:
        result.problems.append(
            Problem(
                "currency.no_scale",
                f"no decimal places are known for {record['currency']}"
                f"{' on ' + network if network else ''}",
                row=number,
                column="currency",
                value=record["currency"],
            )
        )
        return None
    try:
        scaled = apply_scale(requested, places, policy)
    except TooPrecise as exc:
        result.problems.append(
            Problem(
                "amount.too_precise",
                f"{record['amount']} {exc} allowed for {record['currency']}",
                row=number,
                column="amount",
                value=record["amount"],
            )
        )
        return None
    if scaled.delta:
        result.roundings.append(
            Rounding(
                number,
                record["reference"],
                record["currency"],
                requested,
                scaled.amount,
                scaled.delta,
                places,
            )
        )
    return PayoutRow(
        row=number,
        reference=record["reference"],
        amount_requested=requested,
        amount=scaled.amount,
        rounding_delta=scaled.delta,
        currency=record["currency"],
        network=network,
        address=record["address"] or None,
        memo=record["memo"] or None,
        name=record["name"] or None,
        description=record["description"] or None,
        extra={c: record[c] for c in extra_columns if record[c]},
    )
