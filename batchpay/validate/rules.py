"""The row rules, run by pandera lazily so every problem is found in one pass.

Each rule is a vectorised test (True = fine) plus an explainer that turns one failing cell into
a :class:`~batchpay.problems.Problem` with a stable code. Pandera runs the tests and collects the
failures; the explainers word them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from batchpay.money import PLAIN_AMOUNT, AmountError, NumberFormat, parse_amount
from batchpay.problems import Problem, Severity
from batchpay.resources import load_schema_file
from batchpay.validate.addresses import check_address, looks_like, payable
from batchpay.validate.tables import Tables

MAX_TAG = 2**32 - 1  # an XRP destination tag is an unsigned 32-bit number
Explain = Callable[[pd.Series], tuple[str, str]]  # row -> (code, message)


@dataclass(frozen=True)
class Rule:
    name: str  # unique; also the default problem code
    column: str
    test: Callable[[pd.DataFrame], pd.Series]
    explain: Explain
    severity: Severity = Severity.ERROR


def _fixed(code: str, message: str) -> Explain:
    return lambda row: (code, message)


def _present(column: str) -> Rule:
    return Rule(
        f"{column}.missing",
        column,
        lambda df: df[column] != "",
        _fixed(f"{column}.missing", f"{column} is empty"),
    )


def _max_length(column: str, limit: int) -> Rule:
    return Rule(
        f"{column}.too_long",
        column,
        lambda df: df[column].str.len() <= limit,
        _fixed(f"{column}.too_long", f"{column} is longer than {limit} characters"),
    )


# What Excel writes in a cell whose formula failed (a VLOOKUP that found nothing, say).
EXCEL_ERRORS = frozenset(
    {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
)


def _no_excel_error(column: str) -> Rule:
    """A reference or memo reading ``#N/A`` is a formula that failed, not a name for the
    payment: sent as a memo, the exchange would never credit the recipient."""
    return Rule(
        f"{column}.excel_error",
        column,
        lambda df: ~df[column].str.upper().isin(EXCEL_ERRORS),
        lambda row: (
            f"{column}.excel_error",
            f"{column} {row[column]!r} is an Excel error (a formula that failed); fix the "
            "formula or type the value",
        ),
    )


_PLAIN_POSITIVE = PLAIN_AMOUNT  # digits bounded, so no sum of amounts can be inexact
_ALL_ZERO = r"\+?[0.]+"


def _amount_ok(df: pd.DataFrame) -> pd.Series:
    s = df["amount"]
    return s.str.fullmatch(_PLAIN_POSITIVE) & ~s.str.fullmatch(_ALL_ZERO)


def _explain_amount(number_format: NumberFormat | None) -> Explain:
    def explain(row: pd.Series) -> tuple[str, str]:
        try:
            parse_amount(row["amount"], number_format)
        except AmountError as exc:
            return exc.code, str(exc) + locale_hint(row["amount"], number_format)
        return "amount.invalid", "the amount is not valid"

    return explain


def locale_hint(text: str, current: NumberFormat | None) -> str:
    """How the amount reads under each known locale it fits (all of them: "1,234" is 1234
    in en_US and 1.234 in de_DE, and only the user knows which was meant), and whether a
    currency symbol or code is in the way."""
    bare = _without_currency(text)
    if bare is not None:
        return (
            f"; remove the currency symbol or code: the amount is {bare!r}, and the currency "
            "belongs in the currency column"
        )
    readings: dict[str, list[str]] = {}
    for name, spec in load_schema_file("locales.toml").items():
        if current is not None and name == current.name:
            continue
        plain = NumberFormat(name, tuple(spec["group"]), spec["decimal"]).plain(text)
        if plain is not None and plain != text.strip():
            readings.setdefault(plain, []).append(name)
    if not readings:
        return ""
    shown = "; ".join(
        f"with --locale {names[0]}{_also(names)} it reads {plain}"
        for plain, names in readings.items()
    )
    return f"; if the sheet writes numbers in a locale's format, say which: {shown}"


def _also(names: list[str]) -> str:
    return f" (or {', '.join(names[1:])})" if len(names) > 1 else ""


def _without_currency(text: str) -> str | None:
    """``text`` without a leading or trailing currency symbol or code, if that is what keeps it
    from being an amount ("$1234.50", "1234.50 USDT"); None otherwise."""
    stripped = text.strip()
    for symbol in ("$", "€", "£", "¥", "₽", "₴", "₮", "₿"):
        stripped = stripped.removeprefix(symbol).removesuffix(symbol).strip()
    match = re.fullmatch(r"(?:[A-Za-z]{3,5}\s*)?(.*?)(?:\s*[A-Za-z]{3,5})?", stripped)
    bare = match.group(1).strip() if match else stripped
    if bare == text.strip() or not re.fullmatch(r"[0-9][0-9.,' \u00a0\u202f]*", bare):
        return None
    return bare


def _duplicate_rule() -> Rule:
    """reference.duplicate, whose message names the reference and the other rows."""
    rows_of: dict[str, list[int]] = {}

    def test(df: pd.DataFrame) -> pd.Series:
        s = df["reference"]
        repeated = s.duplicated(keep=False) & (s != "")
        rows_of.clear()
        for row, reference in s[repeated].items():
            rows_of.setdefault(reference, []).append(int(row))
        return ~repeated

    def explain(row: pd.Series) -> tuple[str, str]:
        reference = row["reference"]
        others = [str(r) for r in rows_of.get(reference, []) if r != row.name]
        listed = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        return (
            "reference.duplicate",
            f"reference {reference!r} appears more than once in the sheet (also on row"
            f"{'s' if len(others) > 1 else ''} {listed}); give each payment its own reference",
        )

    return Rule("reference.duplicate", "reference", test, explain)


def _explain_unknown(column: str, tables: Tables) -> Explain:
    def explain(row: pd.Series) -> tuple[str, str]:
        text = row[column]
        message = f"{column} {text!r} is not known"
        pair = tables.split_pair(text)
        close = tables.close_to(column, text) if pair is None else None
        if pair is not None:
            currency, network = pair
            message += (
                f"; it looks like currency {currency} on network {network}: write "
                f"{currency} in the currency column and {network} in the network column"
            )
        elif close is not None:
            message += f"; did you mean {close}?"
        return f"{column}.unknown", message

    return explain


def _rules_common(
    tables: Tables, limits: dict[str, int], number_format: NumberFormat | None
) -> list[Rule]:
    return [
        _present("reference"),
        _no_excel_error("reference"),
        _max_length("reference", limits["reference_max_length"]),
        _duplicate_rule(),
        Rule("amount.grammar", "amount", _amount_ok, _explain_amount(number_format)),
        _present("currency"),
        Rule(
            "currency.unknown",
            "currency",
            lambda df: (df["currency"] == "") | df["currency"].map(tables.known_currency),
            _explain_unknown("currency", tables),
        ),
        _max_length("name", limits["name_max_length"]),
        _max_length("description", limits["description_max_length"]),
    ]


def _address_ok(tables: Tables) -> Callable[[pd.DataFrame], pd.Series]:
    def test(df: pd.DataFrame) -> pd.Series:
        ok = [True] * len(df)  # unknown networks and empty addresses: other rules report them
        checked: list[int] = []
        pairs: list[tuple[str, str]] = []
        for i, (network, address) in enumerate(
            zip(df["network"].tolist(), df["address"].tolist(), strict=True)
        ):
            net = tables.networks.get(network)
            if net is not None and address != "":
                checked.append(i)
                pairs.append((net.family, address))
        for i, verdict in zip(checked, payable(pairs), strict=True):
            ok[i] = verdict
        return pd.Series(ok, index=df.index, dtype=bool)

    return test


def _address_unchecked(tables: Tables) -> Callable[[pd.DataFrame], pd.Series]:
    def test(df: pd.DataFrame) -> pd.Series:
        def fine(network: str, address: str) -> bool:
            net = tables.networks.get(network)
            if net is None or net.family != "evm" or address == "":
                return True
            return check_address(net.family, address).code != "address.no_checksum"

        return pd.Series(
            [
                fine(n, a)
                for n, a in zip(df["network"].tolist(), df["address"].tolist(), strict=True)
            ],
            index=df.index,
            dtype=bool,
        )

    return test


def _explain_address(tables: Tables) -> Explain:
    def explain(row: pd.Series) -> tuple[str, str]:
        family = tables.networks[row["network"]].family
        verdict = check_address(family, row["address"])
        hint = looks_like(family, row["address"]) if verdict.code == "address.invalid" else ""
        return (
            verdict.code or "address.invalid",
            f"address {verdict.message} ({row['network']}){hint}",
        )

    return explain


def _tag_ok(memo: str) -> bool:
    return memo.isascii() and memo.isdigit() and int(memo) <= MAX_TAG


def _memo_ok(tables: Tables) -> Callable[[pd.DataFrame], pd.Series]:
    kinds = {name: net.memo for name, net in tables.networks.items()}

    def test(df: pd.DataFrame) -> pd.Series:
        tagged = (df["network"].map(kinds) == "numeric") & (df["memo"] != "")
        ok = pd.Series(True, index=df.index, dtype=bool)
        if tagged.any():
            ok[tagged] = df.loc[tagged, "memo"].map(_tag_ok).astype(bool)
        return ok

    return test


def _memo_supported(tables: Tables) -> Callable[[pd.DataFrame], pd.Series]:
    def test(df: pd.DataFrame) -> pd.Series:
        kind = df["network"].map(lambda n: getattr(tables.networks.get(n), "memo", "unknown"))
        return (df["memo"] == "") | kind.notna()

    return test


def _rules_crypto(tables: Tables) -> list[Rule]:
    return [
        _present("network"),
        Rule(
            "network.unknown",
            "network",
            lambda df: (df["network"] == "") | df["network"].isin(list(tables.networks)),
            _explain_unknown("network", tables),
        ),
        _present("address"),
        Rule("address.invalid", "address", _address_ok(tables), _explain_address(tables)),
        Rule(
            "address.no_checksum",
            "address",
            _address_unchecked(tables),
            _fixed(
                "address.no_checksum",
                "the address has no EIP-55 checksum (all one case); "
                "check it carefully before paying",
            ),
            Severity.WARNING,
        ),
        Rule(
            "memo.not_supported",
            "memo",
            _memo_supported(tables),
            lambda row: (
                "memo.not_supported",
                f"{row['network']} has no memo or tag; a memo "
                "here would be dropped and the recipient might never be credited",
            ),
        ),
        _no_excel_error("memo"),
        Rule(
            "memo.invalid",
            "memo",
            _memo_ok(tables),
            _fixed(
                "memo.invalid",
                f"a destination tag must be a whole number from 0 to {MAX_TAG}",
            ),
        ),
    ]


def _rules_fiat() -> list[Rule]:
    return [
        Rule(
            "country_code.invalid",
            "country_code",
            lambda df: df["country_code"].str.fullmatch(r"[A-Z]{2}"),
            _fixed("country_code.invalid", "country_code must be two letters (ISO 3166-1)"),
        ),
        Rule(
            "payout_currency.invalid",
            "payout_currency",
            lambda df: df["payout_currency"].str.fullmatch(r"[A-Z]{3}"),
            _fixed("payout_currency.invalid", "payout_currency must be a 3-letter ISO 4217 code"),
        ),
        _present("payment_method"),
        _present("recipient_name"),
    ]


def rules_for(kind: str, tables: Tables, number_format: NumberFormat | None = None) -> list[Rule]:
    limits = load_schema_file("columns.toml")["limits"]
    rules = _rules_common(tables, limits, number_format)
    rules += _rules_crypto(tables) if kind == "crypto" else _rules_fiat()
    return rules


def run_rules(frame: pd.DataFrame, rules: list[Rule]) -> list[Problem]:
    """Run every rule over ``frame`` (index = sheet row) and return one problem per failure."""
    by_name = {r.name: r for r in rules}
    schema = pa.DataFrameSchema(
        checks=[_as_check(r) for r in rules if r.column in frame.columns],
        strict=False,
        coerce=False,
    )
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    problems: list[Problem] = []
    seen: set[tuple[str, int]] = set()
    for name, index in zip(cases["check"], cases["index"], strict=True):
        rule = by_name.get(str(name))
        if rule is None or index is None or (rule.name, int(index)) in seen:
            continue
        seen.add((rule.name, int(index)))
        row = frame.loc[int(index)]
        code, message = rule.explain(row)
        problems.append(
            Problem(
                code,
                message,
                row=int(index),
                column=rule.column,
                value=str(row[rule.column]),
                severity=rule.severity,
            )
        )
    return problems


def _as_check(rule: Rule) -> pa.Check:
    # ignore_na=False: the frame holds no missing values (empty cells are ""), and pandera
    # would otherwise scan the whole frame for them once per check
    return pa.Check(
        lambda df, t=rule.test: t(df).fillna(False).astype(bool),
        name=rule.name,
        ignore_na=False,
    )
