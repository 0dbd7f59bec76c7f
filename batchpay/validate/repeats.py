"""Sheet-wide checks on the built rows: the same payment twice, and the user's control figures."""

from __future__ import annotations

from batchpay.model import PayoutRow
from batchpay.money import to_wire, total
from batchpay.plan.preflight import recipient_details
from batchpay.problems import Problem, Severity
from batchpay.validate.addresses import canonical_address
from batchpay.validate.options import SheetOptions
from batchpay.validate.tables import Tables


def repeated_payments(
    rows: list[PayoutRow], options: SheetOptions, tables: Tables
) -> tuple[list[Problem], list[PayoutRow]]:
    """The same payment (recipient, amount, currency) under two references is usually a
    copy-paste slip; the user must look and say so with --allow-duplicates. Recipients are
    compared in canonical form (a TON account by workchain and id, whatever its flags).
    Returns the problems and the rows that may still be paid."""
    ton = {name for name, net in tables.networks.items() if net.family == "ton"}
    first: dict[tuple[object, ...], PayoutRow] = {}
    groups: dict[tuple[object, ...], list[PayoutRow]] = {}  # only payments seen twice or more
    for row in rows:
        address: str | None = row.address
        if address is not None and row.network in ton:
            address = canonical_address("ton", address).identity
        key = (
            row.currency,
            row.network,
            address,
            row.memo,
            row.amount,
            recipient_details(row.extra) if row.address is None else (),
        )
        seen = first.setdefault(key, row)
        if seen is not row:
            groups.setdefault(key, [seen]).append(row)
    severity = Severity.WARNING if options.allow_duplicates else Severity.ERROR
    advice = "" if options.allow_duplicates else "; if intended, pass --allow-duplicates"
    problems = []
    for group in groups.values():
        for row in group:
            others = ", ".join(f"{r.reference!r} (row {r.row})" for r in group if r is not row)
            problems.append(
                Problem(
                    "payment.repeated",
                    f"the same payment ({row.amount} {row.currency} to the same recipient) "
                    f"appears under reference {row.reference!r} and also under {others}" + advice,
                    row=row.row,
                    column="reference",
                    value=row.reference,
                    severity=severity,
                )
            )
    if not options.allow_duplicates:
        blocked = {p.row for p in problems}
        rows = [r for r in rows if r.row not in blocked]
    return problems, rows


def control_totals(rows: list[PayoutRow], options: SheetOptions) -> list[Problem]:
    """The user's own control figures, checked before anything can be sent."""
    problems = []
    if options.expect_rows is not None and len(rows) != options.expect_rows:
        problems.append(
            Problem(
                "control.row_count",
                f"expected {options.expect_rows} payable rows, the sheet has {len(rows)}",
            )
        )
    for currency, expected in options.expect_totals.items():
        found = total(r.amount_requested for r in rows if r.currency == currency.upper())
        if found != expected:
            problems.append(
                Problem(
                    "control.total",
                    f"expected {currency.upper()} total {to_wire(expected)}, the "
                    f"sheet's payable rows add up to {to_wire(found)}",
                    column="amount",
                )
            )
    return problems
