"""Stage 2, validate: a :class:`~batchpay.ingest.Sheet` becomes valid rows plus problems.

Every problem in the sheet is collected (pandera runs lazily); rows with an error are left out of
``rows``, and any error means nothing may be sent. Amounts are brought to the allowed decimal
places here, under the rounding policy, and every change is recorded as a :class:`Rounding`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from batchpay.ingest import Sheet
from batchpay.model import PayoutRow, Rounding
from batchpay.money import (
    ZERO,
    RoundingPolicy,
    Scaled,
    TooPrecise,
    apply_scale,
    parse_amount,
    to_wire,
)
from batchpay.problems import Problem, has_errors, sort_key
from batchpay.resources import load_schema_file
from batchpay.validate.canonical import (
    NOT_IDENTITY,
    bad_row_numbers,
    canonical_payees,
    clean_columns,
    reference_look_alikes,
)
from batchpay.validate.headers import HeaderMap, alias_table, map_headers
from batchpay.validate.options import SheetOptions
from batchpay.validate.presets import apply_preset, rename_headers
from batchpay.validate.repeats import control_totals, repeated_payments
from batchpay.validate.rules import rules_for, run_rules
from batchpay.validate.tables import Tables, load_tables

__all__ = ["SheetOptions", "Validated", "sheet_kind", "validate_sheet"]

_UPPER = ("currency", "country_code", "payout_currency", "from_currency")
_CORE = ("reference", "amount", "currency", "network", "address", "memo", "name", "description")


@dataclass
class Validated:
    kind: str  # "crypto" or "fiat"
    rows: list[PayoutRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    roundings: list[Rounding] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)  # column name -> sheet position

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
    options: SheetOptions | None = None,
) -> Validated:
    tables = tables or load_tables()
    options = options or SheetOptions()
    number_format = options.number_format()
    sheet = rename_headers(sheet, options.column_map)
    if options.preset:
        sheet = apply_preset(sheet, options.preset)
    columns = load_schema_file("columns.toml")
    kind = sheet_kind(provider, sheet.headers)
    kind_spec = columns["kind"][kind]
    required = [*columns["common"]["required"], *kind_spec["required"]]
    known = set(required) | set(columns["common"]["optional"]) | set(kind_spec["optional"])
    header_map = map_headers(sheet.headers, known, kind_spec.get("prefix"), sheet.header_row)
    header_problems = [
        *header_map.problems,
        *_missing_columns(required, header_map, sheet.header_row),
    ]
    result = Validated(kind, problems=[*sheet.problems, *header_problems])
    if not options.preset:  # a preset rearranges columns; positions would mislead
        result.columns = {name: position for position, name in header_map.by_position.items()}
    if has_errors(header_problems):  # without the columns, rows cannot be read
        result.problems.sort(key=sort_key)
        return result
    if sheet.frame.empty:
        result.problems.append(
            Problem("sheet.no_rows", "the sheet has a header but no rows", row=sheet.header_row)
        )
        return result
    frame, frame_problems = _canonical_frame(sheet, header_map, known, tables)
    result.problems += frame_problems
    if number_format is not None:
        frame["amount"] = frame["amount"].map(lambda t: number_format.plain(t) or t)
    result.problems += run_rules(frame, rules_for(kind, tables, number_format))
    if kind == "crypto":
        result.problems += canonical_payees(frame, bad_row_numbers(result.problems), tables)
    bad_rows = bad_row_numbers(result.problems)
    _finish_rows(result, frame, bad_rows, provider, policy, tables, options)
    repeats, result.rows = repeated_payments(result.rows, options, tables)
    result.problems += repeats
    result.problems += control_totals(result.rows, options)
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
) -> tuple[pd.DataFrame, list[Problem]]:
    """Canonical column names, trimmed cells read as a person sees them, every known column
    present (empty if absent); and the problems found on the way."""
    frame = sheet.frame[list(header_map.by_position)].copy()
    frame.columns = [header_map.by_position[p] for p in header_map.by_position]
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    problems = clean_columns(frame, [c for c in frame.columns if c not in NOT_IDENTITY])
    if "reference" in frame.columns:
        problems += reference_look_alikes(frame)
    for column in sorted(known | set(_CORE) | set(_UPPER)):
        if column not in frame.columns:
            frame[column] = ""
    for column in _UPPER:
        frame[column] = frame[column].str.upper()
    # a sheet spells a handful of networks: resolve each spelling once, then map the column
    spellings = {
        n: (tables.canonical_network(n) or n.upper() if n else "")
        for n in frame["network"].unique().tolist()
    }
    frame["network"] = frame["network"].map(spellings)
    for column, implied in (
        ("currency", header_map.implied_currency),
        ("network", header_map.implied_network),
    ):
        if implied:
            problems += _implied(frame, column, implied)
    return frame, problems


def _implied(frame: pd.DataFrame, column: str, implied: str) -> list[Problem]:
    """ "Amount (USDT)" says every amount is USDT: an empty currency cell takes it, and a
    currency cell that says otherwise is an error on its row (never 2500 BTC). The same for
    the network of "Amount (USDT-TRC20)"."""
    cells = frame[column]
    conflicting = (cells != "") & (cells != implied)
    problems = [
        Problem(
            f"{column}.conflict",
            f"the amount column's header says {column} {implied}, but this row's {column} is "
            f"{cell!r}; make them agree (or take the {column} out of the header)",
            row=int(row),
            column=column,
            value=cell,
        )
        for row, cell in cells[conflicting].items()
    ]
    frame[column] = cells.where(cells != "", implied)
    return problems


def _finish_rows(
    result: Validated,
    frame: pd.DataFrame,
    bad_rows: set[int],
    provider: str | None,
    policy: RoundingPolicy,
    tables: Tables,
    options: SheetOptions,
) -> None:
    extra_columns = [c for c in frame.columns if c not in _CORE]
    names = list(frame.columns)
    # plain lists per column are far cheaper than DataFrame.to_dict("records")
    columns = [frame[c].tolist() for c in names]
    # a sheet has a handful of (currency, network) pairs and up to millions of rows
    places = functools.cache(lambda currency, network: tables.scale(currency, network, provider))
    for row_number, values in zip(frame.index.tolist(), zip(*columns, strict=True), strict=True):
        number = int(row_number)
        if number in bad_rows:
            continue
        record = dict(zip(names, values, strict=True))
        row = _build_row(number, record, extra_columns, places, policy, result)
        cap = options.max_amounts.get(row.currency) if row is not None else None
        if row is not None and cap is not None and row.amount_requested > cap:
            result.problems.append(
                Problem(
                    "amount.over_cap",
                    f"{to_wire(row.amount_requested)} {row.currency} is over "
                    f"the configured cap of {to_wire(cap)}",
                    row=number,
                    column="amount",
                    value=record["amount"],
                )
            )
            continue
        if row is not None:
            result.rows.append(row)


def _build_row(
    number: int,
    record: dict[str, Any],
    extra_columns: list[str],
    scale: Callable[[str, str | None], int | None],
    policy: RoundingPolicy,
    result: Validated,
) -> PayoutRow | None:
    requested = parse_amount(record["amount"])
    network = record["network"] or None
    places = scale(record["currency"], network)
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
    exponent = requested.as_tuple().exponent
    if isinstance(exponent, int) and -exponent <= places:  # most rows: nothing to round
        amount, delta = requested, ZERO
    else:
        scaled = _round(number, record, requested, places, policy, result)
        if scaled is None:
            return None
        amount, delta = scaled.amount, scaled.delta
    return PayoutRow(
        row=number,
        reference=record["reference"],
        amount_requested=requested,
        amount=amount,
        rounding_delta=delta,
        currency=record["currency"],
        network=network,
        address=record["address"] or None,
        memo=record["memo"] or None,
        name=record["name"] or None,
        description=record["description"] or None,
        extra={c: record[c] for c in extra_columns if record[c]} if extra_columns else {},
    )


def _round(
    number: int,
    record: dict[str, Any],
    requested: Decimal,
    places: int,
    policy: RoundingPolicy,
    result: Validated,
) -> Scaled | None:
    """Round an amount with too many decimals by the policy, recording the delta; or
    record why it cannot be (policy ``reject``)."""
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
    if not scaled.amount:  # 0.0000001 USDT rounds to nothing: never a payout of zero
        result.problems.append(
            Problem(
                "amount.not_positive",
                f"{record['amount']} rounds to 0 at the {places} decimals allowed for "
                f"{record['currency']}; the amount must be greater than zero",
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
    return scaled
