"""The sheet's identity columns brought to one form before rows are built.

Three passes over the canonical frame (index = sheet row), each working once per distinct
text, so a million rows with a few thousand distinct addresses cost a few thousand decodes:

1. :func:`clean_columns`: every identity column read as a person sees it
   (:mod:`batchpay.validate.identity`).
2. :func:`reference_look_alikes`: references in look-alike letters are flagged, and two
   references that cannot be told apart on screen are both refused.
3. :func:`canonical_payees`: after the rules, each address and memo/tag becomes the one form
   that is compared, sent and reported (:func:`batchpay.validate.addresses.canonical_address`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from batchpay.problems import Problem, Severity
from batchpay.validate.addresses import canonical_address
from batchpay.validate.identity import clean, look_alikes, shown, skeleton
from batchpay.validate.tables import Tables

# Display text: never part of a key or a comparison, and shown exactly as written.
NOT_IDENTITY = frozenset({"name", "description"})
XRP_MAX_TAG = 2**32 - 1


def clean_columns(frame: pd.DataFrame, columns: Iterable[str]) -> list[Problem]:
    """Clean ``columns`` of ``frame`` in place; one problem per cell that needed it."""
    problems: list[Problem] = []
    for column in columns:
        values = frame[column].tolist()
        joined = "".join(values)
        if joined.isascii() and joined.isprintable():  # nearly every column of every sheet
            continue
        cleaned = {v: clean(v) for v in set(values) if not (v.isascii() and v.isprintable())}
        if not cleaned:
            continue
        for row, value in zip(frame.index.tolist(), values, strict=True):
            result = cleaned.get(value)
            if result is None:
                continue
            problems += [
                Problem(
                    f.code,
                    f"{column} {f.detail}",
                    row=int(row),
                    column=column,
                    value=shown(value),
                    severity=f.severity,
                )
                for f in result.findings
            ]
        frame[column] = [cleaned[v].text if v in cleaned else v for v in values]
    return problems


def reference_look_alikes(frame: pd.DataFrame) -> list[Problem]:
    """Warnings for references in look-alike letters; an error for each reference that looks
    the same as another one in the sheet (they would be paid as two people)."""
    references = frame["reference"].tolist()
    if "".join(references).isascii():
        return []
    problems: list[Problem] = []
    by_look: dict[str, list[tuple[int, str]]] = {}
    rows = frame.index.tolist()
    for row, reference in zip(rows, references, strict=True):
        if reference:
            by_look.setdefault(skeleton(reference), []).append((int(row), reference))
        finding = look_alikes(reference)
        if finding is not None:
            problems.append(
                Problem(
                    finding.code,
                    f"reference {finding.detail}",
                    row=int(row),
                    column="reference",
                    value=reference,
                    severity=finding.severity,
                )
            )
    for group in by_look.values():
        if len({reference for _, reference in group}) < 2:
            continue  # one spelling: an exact duplicate, which its own rule reports
        for row, reference in group:
            others = ", ".join(
                f"{other!r} on row {other_row}" for other_row, other in group if other != reference
            )
            problems.append(
                Problem(
                    "reference.look_alike",
                    f"reference {reference!r} looks the same as {others} but is spelt with "
                    "different letters; give each payment a reference that reads differently",
                    row=row,
                    column="reference",
                    value=reference,
                )
            )
    return problems


# Families whose addresses have more than one spelling (case, encoding, an embedded tag).
# Base58 families (TRON, Solana, Dogecoin) are case-sensitive: written is canonical.
_SPELLED_MANY_WAYS = frozenset({"evm", "bitcoin", "litecoin", "ton", "xrp"})


def canonical_payees(frame: pd.DataFrame, bad_rows: set[int], tables: Tables) -> list[Problem]:
    """Rewrite ``address`` and ``memo`` of every row not in ``bad_rows`` in their canonical
    form; problems for tags that conflict or are out of range."""
    families = {name: net.family for name, net in tables.networks.items()}
    memo_kinds = {name: net.memo for name, net in tables.networks.items()}
    family_of = frame["network"].map(families)
    fine = ~frame.index.isin(list(bad_rows))
    carried: dict[int, tuple[int, str]] = {}  # row -> (tag, X-address) for X-addresses
    for family in _SPELLED_MANY_WAYS:
        rows = fine & (family_of == family) & (frame["address"] != "")
        if not rows.any():
            continue
        # one decode per distinct address, then a dictionary lookup per row
        written = frame.loc[rows, "address"]
        forms = {a: canonical_address(family, a) for a in written.unique().tolist()}
        frame.loc[rows, "address"] = written.map({a: f.address for a, f in forms.items()})
        tags = {a: f.tag for a, f in forms.items() if f.tag is not None}
        if tags:  # X-addresses: the tag they carry meets the memo column below
            for row, address in written[written.isin(list(tags))].items():
                carried[int(row)] = (tags[address], address)
    tagged = fine & (frame["network"].map(memo_kinds) == "numeric") & (frame["memo"] != "")
    tagged |= frame.index.isin(list(carried))
    if not tagged.any():
        return []
    problems: list[Problem] = []
    memos = []
    for row, memo in frame.loc[tagged, "memo"].items():
        tag, address = carried.get(int(row), (None, ""))
        canonical, problem = _numeric_tag(int(row), memo, tag, address)
        memos.append(canonical)
        problems += [problem] if problem else []
    frame.loc[tagged, "memo"] = memos
    return problems


def _numeric_tag(row: int, memo: str, tag: int | None, address: str) -> tuple[str, Problem | None]:
    """One destination tag from the memo column and the X-address, as a plain number."""
    number = int(memo) if memo.isdigit() and memo.isascii() else None
    if memo and (number is None or number > XRP_MAX_TAG):
        return memo, Problem(
            "memo.invalid",
            f"a destination tag must be a whole number from 0 to {XRP_MAX_TAG}",
            row=row,
            column="memo",
            value=memo,
        )
    if tag is not None and number is not None and tag != number:
        return memo, Problem(
            "memo.conflict",
            f"the X-address {address} carries destination tag {tag}, but the memo column says "
            f"{number}; keep one of them",
            row=row,
            column="memo",
            value=memo,
        )
    return str(number if number is not None else tag), None


def bad_row_numbers(problems: Iterable[Problem]) -> set[int]:
    return {p.row for p in problems if p.severity is Severity.ERROR and p.row is not None}
