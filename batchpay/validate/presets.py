"""Foreign layouts (``--preset``) and the user's own header names (``--columns FILE``),
turned into batchpay's columns before validation. Data in ``schemas/presets.toml``."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from batchpay.errors import ConfigError, UsageError
from batchpay.ingest import Sheet
from batchpay.problems import Problem, Severity
from batchpay.resources import load_schema_file

PRESETS = ("safe", "coinspaid", "inqud")


def read_column_map(path: Path) -> dict[str, str]:
    """A TOML file of ``"Their header" = "batchpay column"`` lines."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read column map {path}: {exc}") from None
    if not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f'{path}: every line must be "Header" = "column"')
    return {str(k): str(v) for k, v in data.items()}


def rename_headers(sheet: Sheet, column_map: Mapping[str, str]) -> Sheet:
    if not column_map:
        return sheet
    lowered = {k.strip().lower(): v for k, v in column_map.items()}
    headers = [lowered.get(h.strip().lower(), h) for h in sheet.headers]
    return replace(sheet, headers=headers)


def apply_preset(sheet: Sheet, name: str) -> Sheet:
    if name not in PRESETS:
        raise UsageError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    spec = load_schema_file("presets.toml")[name]
    columns = {
        h.strip().lower(): spec["columns"][h.strip().lower()]
        for h in sheet.headers
        if h.strip().lower() in spec["columns"]
    }
    frame = sheet.frame.copy()
    frame.columns = [columns.get(h.strip().lower(), h) for h in sheet.headers]
    frame = frame.loc[:, ~frame.columns.duplicated()]
    problems = list(sheet.problems)
    if name == "inqud":
        frame = _split_network_currency(frame)
    elif name == "coinspaid":
        frame = _coinspaid_currency(frame, spec["currencies"])
    else:
        frame, problems = _safe_tokens(frame, spec, problems)
    if "reference" not in frame.columns:
        frame["reference"] = [f"row-{n}" for n in frame.index]
        problems.append(
            Problem(
                "preset.row_references",
                f"{name} files have no reference column: rows are "
                "identified by their row number; do not reorder or insert rows before a re-run",
                row=sheet.header_row,
                severity=Severity.WARNING,
            )
        )
    return replace(sheet, headers=list(frame.columns), frame=_positional(frame), problems=problems)


def _positional(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = pd.RangeIndex(len(out.columns))
    return out


def _split_network_currency(frame: pd.DataFrame) -> pd.DataFrame:
    parts = frame.pop("network_currency").str.strip().str.partition("_")
    frame["network"], frame["currency"] = parts[0], parts[2]
    return frame


def _coinspaid_currency(frame: pd.DataFrame, table: Mapping[str, list[str]]) -> pd.DataFrame:
    codes = frame["currency"].str.strip().str.upper()
    frame["currency"] = codes.map(lambda c: table.get(c, [c, ""])[0])
    frame["network"] = codes.map(lambda c: table.get(c, [c, ""])[1])
    return frame


def _safe_tokens(
    frame: pd.DataFrame, spec: Mapping[str, object], problems: list[Problem]
) -> tuple[pd.DataFrame, list[Problem]]:
    tokens: Mapping[str, str] = spec["tokens"]  # type: ignore[assignment]
    kind = frame.pop("token_type") if "token_type" in frame.columns else None
    token = frame.pop("token_address") if "token_address" in frame.columns else None
    frame.pop("nft_id") if "nft_id" in frame.columns else None
    currencies = []
    for n in frame.index:
        row_kind = str(kind[n]).strip().lower() if kind is not None else ""
        address = str(token[n]).strip().lower() if token is not None else ""
        if row_kind == "nft":
            problems.append(
                Problem(
                    "preset.nft", "an NFT transfer is not a payout", row=int(n), column="token_type"
                )
            )
            currencies.append("")
        elif row_kind == "native" or (not address and row_kind in ("", "erc20")):
            currencies.append(str(spec["native"]))
        elif address in tokens:
            currencies.append(tokens[address])
        else:
            problems.append(
                Problem(
                    "preset.unknown_token",
                    f"token {address} is not one batchpay knows; add a currency column instead",
                    row=int(n),
                    column="token_address",
                    value=address,
                )
            )
            currencies.append("")
    frame["currency"] = currencies
    frame["network"] = str(spec["network"])
    return frame, problems
