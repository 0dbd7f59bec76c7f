"""The review pack: the dry run, grown up, for the person who checks a batch before it is paid.

:func:`build_pack` takes a plan that has passed the run's own checks (``batchpay.api.review``
runs ``batchpay.plan.preflight`` on it exactly as the run and the dry run do) and adds what a
reviewer needs: totals per currency *and* per network (each network is funded on its own),
the fees the provider quotes and what each recipient gets, every rounding, the payee changes
since the last paid batch (those an approver must acknowledge marked), the balances where the
provider publishes them, and the plan digest an approval signs. It writes ``review.json`` and
``review.html`` into the report folder and sends nothing: no ledger row is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchpay.money import ZERO, to_wire, total
from batchpay.problems import Problem
from batchpay.review.changes import ACKNOWLEDGE, PayeeChange, last_paid, must_acknowledge
from batchpay.review.changes import compare as compare_changes
from batchpay.review.digest import approval_digest

if TYPE_CHECKING:
    from batchpay.config import Settings
    from batchpay.plan import Plan, PlannedPayout
    from batchpay.providers import Quote
    from batchpay.send.balance import BalanceCheck
    from batchpay.send.quotes import ProviderView

JSON_FILE = "review.json"
HTML_FILE = "review.html"


@dataclass
class ReviewPack:
    """What ``batchpay review`` returns. ``exit_code`` is 6 when the balance is known and
    does not cover the batch (the run would stop with exit 6), else 0."""

    plan: Plan
    digest: str
    fee_option: str
    sandbox: bool
    quotes: dict[str, Quote]
    changes: list[PayeeChange]
    compared_with: str | None  # the last paid batch the changes are against
    balance: BalanceCheck
    problems: list[Problem] = field(default_factory=list)  # warnings
    files: list[Path] = field(default_factory=list)

    @property
    def batch(self) -> str:
        return self.plan.batch

    @property
    def provider(self) -> str:
        return self.plan.provider

    @property
    def live(self) -> bool:
        return not self.sandbox

    @property
    def must_acknowledge(self) -> list[str]:
        return must_acknowledge(self.changes)

    @property
    def exit_code(self) -> int:
        return 6 if self.balance.short() else 0


def build_pack(
    plan: Plan,
    settings: Settings,
    view: ProviderView,
    problems: list[Problem],
) -> ReviewPack:
    """The pack for ``plan`` (already checked), compared with this ledger's last paid batch,
    written into ``settings.report_dir_for(plan.batch)``. Reads the ledger, writes none of it."""
    from batchpay.ledger import Ledger
    from batchpay.send.balance import check_balance

    changes: list[PayeeChange] = []
    compared_with = None
    unsent: list[PlannedPayout] = list(plan.items)
    if settings.ledger.exists():
        with Ledger(settings.ledger, create=False) as ledger:
            found = last_paid(ledger, plan)
            if found is not None:
                compared_with = found[0]
                changes = compare_changes(plan, found[0], found[1], settings.review_amount_change)
            existing = ledger.existing(plan.batch)
        unsent = [i for i in plan.items if not _sent(existing, i.row_key)]
    balance = check_balance(
        plan.provider, settings, unsent, view.quotes, settings.fee_option, lambda: view.balances
    )
    pack = ReviewPack(
        plan,
        approval_digest(
            plan, fee_option=settings.fee_option, networks=settings.networks.get(plan.provider)
        ),
        settings.fee_option,
        view.sandbox,
        view.quotes,
        changes,
        compared_with,
        balance,
        problems,
    )
    pack.files = write_pack(pack, settings.report_dir_for(plan.batch))
    return pack


def _sent(existing: Any, row_key: str) -> bool:
    old = existing.get(row_key)
    return old is not None and bool(old.sent_before)


def write_pack(pack: ReviewPack, directory: Path) -> list[Path]:
    """Write review.json and review.html into ``directory``; return their paths."""
    import json

    from batchpay.review.render import render_review

    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / JSON_FILE, directory / HTML_FILE
    pack.files = [html_path, json_path]  # review.json lists them as `review --json` does
    data = pack_json(pack)
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html_path.write_text(render_review(data), encoding="utf-8")
    return [html_path, json_path]


def pack_json(pack: ReviewPack) -> dict[str, Any]:
    """The pack as JSON (amounts as decimal strings): review.json and ``review --json``."""
    from batchpay.jsonout import plan_totals, rounding_json

    plan = pack.plan
    marked = {c.reference: c.kind for c in pack.changes if c.kind != "missing"}
    return {
        "batch": plan.batch,
        "provider": plan.provider,
        "live": pack.live,
        "sandbox": pack.sandbox,
        "digest": pack.digest,
        "fee_option": pack.fee_option,
        "sheet": plan.sheet_name,
        "sheet_sha256": plan.sheet_sha256,
        "rows": len(plan.items),
        "totals": plan_totals(plan, pack.quotes),
        "networks": networks_json(plan, pack.quotes),
        "balances": balances_json(pack.balance),
        "balance_note": pack.balance.note,
        "roundings": [rounding_json(r) for r in plan.roundings],
        "compared_with": pack.compared_with,
        "changes": [_change_json(c) for c in pack.changes],
        "must_acknowledge": pack.must_acknowledge,
        "payouts": [_payout_json(i, pack.quotes, marked) for i in plan.items],
        "issues": [p.to_json() for p in pack.problems],
        "files": [str(p) for p in pack.files],
    }


def networks_json(plan: Plan, quotes: dict[str, Quote]) -> list[dict[str, Any]]:
    """Totals per (currency, network): rows, to send and, where quoted, fees, what the
    recipients get and what is debited."""
    groups: dict[tuple[str, str], list[PlannedPayout]] = {}
    for item in plan.items:
        key = (item.payout.currency, item.payout.network or "")
        groups.setdefault(key, []).append(item)
    found = []
    for (currency, network), items in sorted(groups.items()):
        entry: dict[str, Any] = {
            "currency": currency,
            "network": network or None,
            "rows": len(items),
            "to_send": to_wire(total(i.payout.amount for i in items)),
        }
        mine = [quotes[i.row_key] for i in items if i.row_key in quotes]
        if mine:
            entry |= {
                "fees": to_wire(total(q.fee for q in mine)),
                "recipients_get": to_wire(total(q.receives for q in mine)),
                "debited": to_wire(total(q.debited for q in mine)),
            }
        found.append(entry)
    return found


def balances_json(check: BalanceCheck) -> dict[str, dict[str, Any]]:
    """currency -> need (amounts + fees on top), the balance (None: not known), covered."""
    found = {}
    for currency, need in check.needs.items():
        held = check.balance(currency)
        found[currency] = {
            "rows": need.rows,
            "to_send": to_wire(need.amount),
            "fees_on_top": to_wire(need.fees) if need.fees else "0",
            "need": to_wire(need.total),
            "fees_unknown": need.fees_unknown,
            "balance": None if held is None else to_wire(held),
            "covered": None if held is None else need.total <= held,
        }
    return found


def _change_json(c: PayeeChange) -> dict[str, Any]:
    return {
        "reference": c.reference,
        "kind": c.kind,
        "row": c.row,
        "before": c.before,
        "after": c.after,
        "note": c.note,
        "acknowledge": c.kind in ACKNOWLEDGE,
    }


def _payout_json(
    item: PlannedPayout, quotes: dict[str, Quote], marked: dict[str, str]
) -> dict[str, Any]:
    p = item.payout
    quote = quotes.get(item.row_key)
    return {
        "row": p.row,
        "reference": p.reference,
        "name": p.name,
        "requested": to_wire(p.amount_requested),
        "amount": to_wire(p.amount),
        "rounding_delta": to_wire(p.rounding_delta) if p.rounding_delta != ZERO else None,
        "currency": p.currency,
        "network": p.network,
        "destination": _destination(item),
        "fee": None if quote is None else to_wire(quote.fee),
        "recipient_gets": None if quote is None else to_wire(quote.receives),
        "debited": None if quote is None else to_wire(quote.debited),
        "change": marked.get(p.reference),
        "row_key": item.row_key,
    }


def _destination(item: PlannedPayout) -> str:
    p = item.payout
    if p.address is None:  # a bank payout: in which currency, how, and to which account
        details = {k: v for k, v in sorted(p.extra.items()) if k.startswith("recipient.")}
        account = ", ".join(f"{k.removeprefix('recipient.')}={v}" for k, v in details.items())
        how = " ".join(p.extra.get(k, "") for k in ("payout_currency", "payment_method")).strip()
        return f"{how}: {account}" if how else account
    return f"{p.address} memo {p.memo}" if p.memo else p.address
