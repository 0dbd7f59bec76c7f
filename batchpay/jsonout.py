"""The JSON the command line prints: pure functions from the library's result objects to
JSON-ready dicts (amounts as wire strings, never floats)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batchpay.money import to_wire, total

if TYPE_CHECKING:
    from batchpay.model import Rounding
    from batchpay.plan import Plan, PlannedPayout
    from batchpay.providers import Quote
    from batchpay.results import RunResult, ValidationResult


def validation_json(result: ValidationResult) -> dict[str, Any]:
    return {
        "sheet": result.sheet,
        "provider": result.provider,
        "kind": result.kind,
        "valid": result.ok,
        "rows": result.rows,
        "counts": {"valid": result.rows},
        "totals": result.totals,
        "roundings": [rounding_json(r) for r in result.roundings],
        "issues": [p.to_json() for p in result.problems],
        "annotated": str(result.annotated) if result.annotated else None,
    }


def run_json(result: RunResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "batch": result.batch,
        "provider": result.provider,
        "sandbox": result.sandbox,
        "dry_run": result.dry_run,
    }
    if result.summary is not None:
        data |= {
            "rows": result.summary.rows,
            "counts": {k: v for k, v in result.summary.counts.items() if v},
            "totals": result.summary.totals,
            "as_of": result.summary.as_of,
            "identity_holds": result.summary.identity_holds,
            "report_files": [str(p) for p in result.report_files],
            "requests_sent": result.requests_sent,
            "stopped": result.stopped,
        }
    elif result.plan is not None:
        data |= plan_json(result.plan, result.quotes)
    data["issues"] = [p.to_json() for p in result.problems]
    return data


def rounding_json(r: Rounding) -> dict[str, Any]:
    return {
        "row": r.row,
        "reference": r.reference,
        "currency": r.currency,
        "requested": to_wire(r.requested),
        "rounded": to_wire(r.rounded),
        "delta": to_wire(r.delta),
        "places": r.places,
    }


def plan_json(plan: Plan, quotes: dict[str, Quote]) -> dict[str, Any]:
    """A dry run's plan: totals per currency (with the quoted fees when there are any) and
    every payout it would send."""
    return {
        "rows": len(plan.items),
        "counts": {"planned": len(plan.items)},
        "totals": plan_totals(plan, quotes),
        "roundings": [rounding_json(r) for r in plan.roundings],
        "payouts": [_payout_json(i, quotes) for i in plan.items],
    }


def plan_totals(plan: Plan, quotes: dict[str, Quote] | None = None) -> dict[str, dict[str, str]]:
    """Per currency: requested, to send and the rounding delta; with quotes, also the fees,
    what the recipients get and what is debited."""
    quotes = quotes or {}
    totals: dict[str, dict[str, str]] = {}
    for currency, t in plan.totals().items():
        entry = {
            "requested": to_wire(t.requested),
            "to_send": to_wire(t.to_send),
            "rounding_delta": to_wire(t.rounding_delta),
        }
        mine = [
            quotes[i.row_key]
            for i in plan.items
            if i.payout.currency == currency and i.row_key in quotes
        ]
        if mine:
            entry |= {
                "fees": to_wire(total(q.fee for q in mine)),
                "recipients_get": to_wire(total(q.receives for q in mine)),
                "debited": to_wire(total(q.debited for q in mine)),
            }
        totals[currency] = entry
    return totals


def _payout_json(item: PlannedPayout, quotes: dict[str, Quote]) -> dict[str, Any]:
    return {
        "row": item.payout.row,
        "reference": item.payout.reference,
        "amount": to_wire(item.payout.amount),
        "currency": item.payout.currency,
        "network": item.payout.network,
        "address": item.payout.address,
        "row_key": item.row_key,
        **(
            {
                "fee": to_wire(quotes[item.row_key].fee),
                "recipient_gets": to_wire(quotes[item.row_key].receives),
                "debited": to_wire(quotes[item.row_key].debited),
            }
            if item.row_key in quotes
            else {}
        ),
    }
