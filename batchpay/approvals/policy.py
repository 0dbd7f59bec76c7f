"""Which approvals count, and the gate ``run`` and ``retry`` pass before anything is sent.

An approval counts for a batch when all of these hold:
- it signs the digest of the batch's current submission (a new submission voids the others);
- its key is in the approvers file, under the name it was given, with the role ``approver``;
- it is not the preparer's (by name or key): the preparer's own signature never counts;
- its signature over its statement is valid, and the statement names this batch and digest.
Each person counts once. A batch needs :meth:`Policy.required` approvals for its totals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from batchpay.approvals.keys import verify
from batchpay.approvals.roster import Approver, Roster, load_roster
from batchpay.errors import ApprovalError, ConfigError, UsageError
from batchpay.ledger.fouryes import Approval, Submission, approvals, submission

if TYPE_CHECKING:
    from batchpay.config import Settings
    from batchpay.ledger import Ledger
    from batchpay.records import Plan


@dataclass(frozen=True)
class Standing:
    """Where a batch stands: its submission, the approvals that count, those that do not
    (with why), and how many it needs."""

    batch: str
    submission: Submission | None
    required: int = 0
    counted: list[tuple[Approval, Approver]] = field(default_factory=list)
    ignored: list[tuple[Approval, str]] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.submission is not None and len(self.counted) >= self.required


def roster_of(settings: Settings) -> Roster | None:
    """The approvers file named in batchpay.toml, or None when four eyes are off. With a
    ``reporting_currency``, thresholds in it value the batch at the latest rate per currency
    of the ``rates`` file (none: such a threshold always applies)."""
    if settings.approvers is None:
        return None
    roster = load_roster(settings.approvers)
    if settings.reporting_currency is None:
        return roster
    rates: dict[str, Decimal] = {}
    if settings.rates is not None:
        from batchpay.report.exports.rates import load_rates

        for (_, currency), rate in sorted(load_rates(settings.rates).rates.items()):
            rates[currency] = rate  # sorted by date: the latest wins
    return replace(roster, reporting=settings.reporting_currency, rates=rates)


def require_roster(settings: Settings) -> Roster:
    roster = roster_of(settings)
    if roster is None:
        raise ConfigError(
            "approvals are off: name an approvers file in batchpay.toml "
            '(approvers = "approvers.toml")'
        )
    return roster


def plan_totals(plan: Plan) -> dict[str, Decimal]:
    """The amount to send per currency: what the policy's thresholds compare."""
    return {currency: t.to_send for currency, t in plan.totals().items()}


def statement_names(text: str, batch: str, digest: str, action: str) -> bool:
    """Whether a signed statement is an ``action`` ("submit" or "approve") of this batch and
    digest: a preparer's signature can never be replayed as an approval, nor one batch's as
    another's."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and data.get("action") == action
        and data.get("batch") == batch
        and data.get("digest") == digest
    )


def submission_problem(roster: Roster, sub: Submission) -> str | None:
    """Why the submission's preparer signature is not to be trusted, or None: the key must be
    in the approvers file under the preparer's name, and sign a submit statement of this batch
    and digest. ``run`` checks it, so a preparer named in the ledger by hand never lets the
    real preparer approve their own batch."""
    person = roster.by_fingerprint(sub.fingerprint)
    if person is None:
        return f"the preparer's key {sub.fingerprint} is not in the approvers file"
    if person.name != sub.preparer:
        return f"the preparer's key {sub.fingerprint} belongs to {person.name}, not {sub.preparer}"
    if not statement_names(sub.statement, sub.batch_id, sub.digest, "submit") or not verify(
        person.key, sub.statement.encode("utf-8"), sub.signature
    ):
        return f"the submission's signature ({sub.preparer}) is not valid"
    return None


def why_not(roster: Roster, sub: Submission, a: Approval) -> tuple[Approver | None, str | None]:
    """The approver behind ``a`` and, when it does not count, why."""
    person = roster.by_fingerprint(a.fingerprint)
    if person is None:
        return None, f"key {a.fingerprint} ({a.approver}) is not in the approvers file"
    if person.name != a.approver:
        return person, f"key {a.fingerprint} belongs to {person.name}, not {a.approver}"
    if not person.may_approve:
        return person, f"{person.name} is a {person.role}, not an approver"
    if person.name == sub.preparer or a.fingerprint == sub.fingerprint:
        return person, f"{person.name} prepared this batch: the preparer's approval never counts"
    if not statement_names(a.statement, a.batch_id, a.digest, "approve"):
        return person, f"{person.name}'s approval signs another batch or digest"
    if not verify(person.key, a.statement.encode("utf-8"), a.signature):
        return person, f"{person.name}'s signature is not valid (forged or altered)"
    return person, None


def standing(ledger: Ledger, roster: Roster, batch: str) -> Standing:
    """Where ``batch`` stands under ``roster`` (see the module text)."""
    sub = submission(ledger, batch)
    if sub is None:
        return Standing(batch, None)
    counted: list[tuple[Approval, Approver]] = []
    ignored: list[tuple[Approval, str]] = []
    for a in approvals(ledger, batch, sub.digest):
        person, reason = why_not(roster, sub, a)
        if reason is None and person is not None:
            if all(p.name != person.name for _, p in counted):
                counted.append((a, person))
        else:
            ignored.append((a, reason or "not counted"))
    required = roster.required(plan_totals(stored_plan(sub)))
    return Standing(batch, sub, required, counted, ignored)


def require_approved(
    ledger: Ledger,
    roster: Roster,
    batch: str,
    digest: str,
    source: str = "this sheet and configuration give",
) -> Standing:
    """The gate: raises ApprovalError (exit 5, nothing sent) unless ``batch`` was submitted
    with plan ``digest`` and has the approvals its policy requires."""
    found = standing(ledger, roster, batch)
    sub = found.submission
    if sub is None:
        raise ApprovalError(
            f"batch {batch!r} has not been submitted for approval, and approvals are on "
            f"({roster.path}); nothing was sent. The preparer runs `batchpay submit SHEET "
            f"--provider P --batch {batch}`, then an approver `batchpay approve --batch {batch}`"
        )
    forged = submission_problem(roster, sub)
    if forged is not None:
        raise ApprovalError(
            f"the submission of batch {batch!r} cannot be trusted: {forged}; nothing was sent. "
            "Run `batchpay audit verify`, then submit the batch again and have it approved"
        )
    if sub.digest != digest:
        raise ApprovalError(
            f"the plan of batch {batch!r} no longer matches the submitted plan (submitted "
            f"digest {sub.digest}, {source} {digest}): the sheet, a setting that enters the "
            "plan or the ledger's rows changed; nothing was sent. Submit it again and have "
            "it approved"
        )
    if not found.approved:
        why = "".join(f"; not counted: {reason}" for _, reason in found.ignored)
        raise ApprovalError(
            f"batch {batch!r} needs {found.required} approval(s) and has "
            f"{len(found.counted)}{why}; nothing was sent. An approver runs `batchpay approve "
            f"--batch {batch}`"
        )
    return found


def gate_plan(settings: Settings, plan: Plan) -> Standing | None:
    """``run``'s gate for the plan it is about to pay (from a sheet, or the submitted one):
    None when approvals are off; else the standing, or ApprovalError."""
    from batchpay.ledger import Ledger
    from batchpay.review.digest import approval_digest

    roster = roster_of(settings)
    if roster is None:
        return None
    overrides = settings.networks.get(plan.provider)
    digest = approval_digest(plan, fee_option=settings.fee_option, networks=overrides)
    if not settings.ledger.exists():
        raise ApprovalError(
            f"batch {plan.batch!r} has not been submitted for approval (no ledger at "
            f"{settings.ledger}); nothing was sent. The preparer runs `batchpay submit` first"
        )
    with Ledger(settings.ledger, create=False) as ledger:
        return require_approved(ledger, roster, plan.batch, digest)


def gate_batch(
    settings: Settings, ledger: Ledger, batch: str, fee_option: str | None = None
) -> Standing | None:
    """The gate on what the engine sends from: the batch's rows in the ledger, under
    ``fee_option`` (default: the batch's), must be the approved plan. ``retry`` passes it
    before anything is sent, and ``run`` after saving its plan and before its first payout
    (rows edited in the ledger after the approval are never paid). None when approvals are
    off; else the standing, or ApprovalError (exit 5)."""
    from batchpay.records import Plan, PlannedPayout
    from batchpay.review.digest import approval_digest

    roster = roster_of(settings)
    if roster is None:
        return None
    info = ledger.require_batch(batch)
    items = [PlannedPayout(r.row_key, r.as_payout()) for r in ledger.rows(batch)]
    plan = Plan(batch, info.provider, info.sheet_name, info.sheet_sha256, items)
    digest = approval_digest(
        plan,
        fee_option=fee_option or info.fee_option,
        networks=settings.networks.get(info.provider),
    )
    return require_approved(ledger, roster, batch, digest, "the batch's rows in the ledger give")


def submitted_plan(settings: Settings, batch: str, provider: str | None) -> Plan:
    """``run --batch ID`` with no sheet: the plan the preparer submitted. Raises UsageError
    when the batch has no submission (give the sheet), or ``provider`` is another one."""
    from batchpay.ledger import Ledger

    found = None
    if settings.ledger.exists():
        with Ledger(settings.ledger, create=False) as ledger:
            found = submission(ledger, batch)
    if found is None:
        raise UsageError(
            f"batch {batch!r} has no submitted plan in {settings.ledger}: give the SHEET and "
            "--provider, or submit the batch first (batchpay submit)"
        )
    if provider is not None and provider != found.provider:
        raise UsageError(f"batch {batch!r} was submitted for {found.provider}, not {provider}")
    return stored_plan(found)


def stored_plan(sub: Submission) -> Plan:
    """The submitted plan; ApprovalError (exit 5, nothing sent) when the ledger holds one
    that cannot be read (edited by hand)."""
    try:
        return sub.plan()
    except ValueError as exc:
        raise ApprovalError(
            f"the submitted plan of batch {sub.batch_id!r} cannot be read ({exc}); nothing "
            "was sent. Run `batchpay audit verify`, then submit the batch again"
        ) from None
