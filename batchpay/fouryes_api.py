"""The four-eyes commands of the public library, one function each (api.py holds the rest):

keygen(path)                              -> SigningKey (its fingerprint)
submit(sheet, provider=, batch=)          -> Submitted
approve(batch, digest=, acks=)            -> Approved
audit_verify(batch)                       -> AuditVerdict

``run`` and ``retry`` pass the gate in :mod:`batchpay.approvals.policy`. Nothing here talks to
a provider except ``submit``'s fee quotes (the same preflight as a dry run).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchpay.approvals.audit import record_audit, verify_batch
from batchpay.approvals.keys import KEY_VAR, PASSPHRASE_VAR, SigningKey, load_signing_key
from batchpay.approvals.policy import (
    Standing,
    plan_totals,
    require_roster,
    standing,
    stored_plan,
    submission_problem,
)
from batchpay.approvals.roster import Approver, Roster
from batchpay.config import Settings, load_settings
from batchpay.errors import ApprovalError, LedgerError, UsageError
from batchpay.guard import check_batch_id
from batchpay.ledger import Ledger
from batchpay.ledger.fouryes import (
    Approval,
    Submission,
    approvals,
    canonical_json,
    plan_to_json,
    save_approval,
    save_submission,
    submission,
)
from batchpay.money import to_wire
from batchpay.planning import check_provider, dry_run, plan_sheet, sheet_options
from batchpay.problems import Problem
from batchpay.session import existing_ledger, same_provider

if TYPE_CHECKING:
    from batchpay.ledger.fouryes import AuditEntry
    from batchpay.records import Plan
    from batchpay.review.changes import PayeeChange
    from batchpay.validate import SheetOptions


@dataclass(frozen=True)
class Submitted:
    batch: str
    provider: str
    digest: str
    preparer: str
    fingerprint: str
    rows: int
    totals: dict[str, str]  # currency -> amount to send
    required: int  # approvals the policy asks for
    voided: int  # earlier approvals this submission voided
    problems: list[Problem] = field(default_factory=list)  # warnings


@dataclass(frozen=True)
class ApprovalView:
    """What an approver is shown before signing: the submitted plan and what changed."""

    batch: str
    submission: Submission
    plan: Plan
    totals: dict[str, str]
    changes: list[PayeeChange]
    must_ack: list[str]
    standing: Standing


@dataclass(frozen=True)
class Approved:
    batch: str
    digest: str
    approver: str
    fingerprint: str
    acks: list[str]
    counted: list[str]  # names whose approvals count now
    required: int
    already: bool = False  # this approver had already approved this digest


@dataclass(frozen=True)
class AuditVerdict:
    batch: str
    entries: int
    problems: list[str]
    trail: list[AuditEntry] = field(default_factory=list)  # the chain, oldest first

    @property
    def ok(self) -> bool:
        return not self.problems


def signing_key(settings: Settings) -> SigningKey:
    """The key named by BATCHPAY_SIGNING_KEY (environment or env file)."""
    env = {n: v for n in (KEY_VAR, PASSPHRASE_VAR) if (v := settings.env.get(n)) is not None}
    return load_signing_key(env)


def signer(roster: Roster, key: SigningKey) -> Approver:
    person = roster.by_fingerprint(key.fingerprint)
    if person is None:
        raise ApprovalError(
            f"your signing key {key.fingerprint} is not in the approvers file {roster.path}; "
            "add its .pub line there (a key not in the file counts for nothing)"
        )
    return person


def keygen(
    path: Path | str, *, comment: str | None = None, passphrase: str | None = None
) -> SigningKey:
    """Write a new Ed25519 key: ``path`` (OpenSSH private key, mode 0600, encrypted with
    ``passphrase`` if given) and ``path.pub``. Raises UsageError if either exists."""
    from batchpay.approvals.audit import os_user
    from batchpay.approvals.keys import generate_key

    target = Path(path)
    return generate_key(target, comment or f"{os_user()}@batchpay", passphrase)


def submit(
    sheet: Path | str,
    provider: str,
    batch: str,
    *,
    settings: Settings | None = None,
    sheet_name: str | None = None,
    options: SheetOptions | None = None,
    key: SigningKey | None = None,
    via: str = "cli",
    account: str | None = None,
) -> Submitted:
    """Plan ``sheet`` exactly as ``run`` does (the same checks as a dry run: SheetRejected,
    exit 1, on errors) and record the plan, its digest and the preparer's signature in the
    ledger. A new submission replaces the batch's earlier one and voids approvals of another
    digest. Raises ConfigError when approvals are off or the key is unusable, ApprovalError
    when the key is not in the approvers file, UsageError for a batch already run.
    ``via`` (cli | web) and ``account`` (the web account that signed) go into the audit entry."""
    from batchpay.review.digest import canonical_plan

    settings = settings or load_settings()
    check_batch_id(batch)
    roster = require_roster(settings)
    key = key or signing_key(settings)
    person = signer(roster, key)
    check_provider(provider)
    options = sheet_options(settings, options)
    plan, warnings = plan_sheet(Path(sheet), sheet_name, provider, batch, settings, options)
    found = dry_run(plan, settings, options, warnings, None).problems
    overrides = settings.networks.get(provider)
    form = canonical_plan(plan, fee_option=settings.fee_option, networks=overrides)
    canonical = form.decode("utf-8")
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    with Ledger(settings.ledger) as ledger:
        _not_run_yet(ledger, batch, provider)
        fields = {"action": "submit", "batch": batch, "digest": digest}
        at, payload = _signed(ledger, key, person, fields)
        record = Submission(batch, digest, provider, settings.fee_option, canonical,
                            plan_to_json(plan), person.name, key.fingerprint,
                            payload["statement"], payload["signature"], at)  # fmt: skip
        payload["voided"] = save_submission(ledger, record)
        payload.update(_how(via, account))
        record_audit(ledger, batch, "submit", payload, actor=person.name)
    totals = plan_totals(plan)
    sums = {c: to_wire(t) for c, t in totals.items()}
    required = roster.required(totals)
    return Submitted(batch, provider, digest, person.name, key.fingerprint, len(plan.items),
                     sums, required, payload["voided"], found)  # fmt: skip


def _signed(
    ledger: Ledger, key: SigningKey, person: Approver, fields: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Sign ``fields``, the time and the hash of the batch's last audit entry as a statement:
    (the time, the audit entry's payload with the statement and its signature). Signing the
    head anchors the whole trail before it: rewriting an earlier entry, even with every
    later hash recomputed, no longer matches what was signed."""
    from batchpay.ledger.fouryes import audit_head

    at = ledger.now()  # the chain's head so far is signed too: a rewritten trail shows
    statement = canonical_json(
        {**fields, "at": at, "audit_head": audit_head(ledger, fields["batch"])}
    )
    signature = key.sign(statement.encode("utf-8"))
    payload = {"digest": fields["digest"], "name": person.name, "fingerprint": key.fingerprint,
               "statement": statement, "signature": signature}  # fmt: skip
    return at, payload


def _how(via: str, account: str | None) -> dict[str, str]:
    """How a signature was made, for its audit entry: ``via`` and the web account."""
    return {"via": via} if account is None else {"via": via, "account": account}


def _not_run_yet(ledger: Ledger, batch: str, provider: str) -> None:
    same_provider(ledger, batch, provider)
    if ledger.batch(batch) is not None:
        raise UsageError(
            f"batch {batch!r} has already been run; a submission is for a batch not yet paid "
            "(use a new batch id)"
        )


def approve(
    batch: str,
    *,
    settings: Settings | None = None,
    digest: str | None = None,
    acks: Iterable[str] = (),
    confirm: Callable[[ApprovalView], bool] | None = None,
    key: SigningKey | None = None,
    via: str = "cli",
    account: str | None = None,
) -> Approved:
    """Sign the digest of ``batch``'s submitted plan as an approver.

    With ``digest`` the approval binds to it with no prompt (ApprovalError if the submitted
    digest differs); without it, ``confirm`` is shown the plan and its changes and must say
    yes (UsageError when there is no ``confirm``: no terminal). Every reference in
    ``must_acknowledge`` must be in ``acks``, else ApprovalError listing them. The preparer
    may not approve their own batch; a key not in the approvers file, or whose role is
    preparer, may not approve (ApprovalError, exit 5): the preparer is a person of the
    approvers file, whichever of their keys (CLI or web) signed. ``via`` (cli | web) and
    ``account`` (the web account that signed) go into the approval and its audit entry."""
    settings = settings or load_settings()
    check_batch_id(batch)
    roster = require_roster(settings)
    key = key or signing_key(settings)
    person = signer(roster, key)
    if not person.may_approve:
        raise ApprovalError(f"{person.name} is a {person.role} in {roster.path}, not an approver")
    named = sorted({a.strip() for a in acks if a.strip()})
    with existing_ledger(settings) as ledger:
        view = approval_view(ledger, roster, settings, batch)
        _may_approve(view, person, key, digest, named)
        if digest is None and (confirm is None or not confirm(view)):
            if confirm is None:
                raise UsageError(
                    "approve asks for confirmation on a terminal; without one pass "
                    "--digest D (as `batchpay review` prints it) or --yes"
                )
            raise ApprovalError(f"batch {batch!r} was not approved (declined); nothing was signed")
        return _sign(ledger, roster, view, person, key, named, _how(via, account))


def approval_view(ledger: Ledger, roster: Roster, settings: Settings, batch: str) -> ApprovalView:
    from batchpay.review.changes import must_acknowledge, payee_changes

    sub = submission(ledger, batch)
    if sub is None:
        raise ApprovalError(
            f"batch {batch!r} has not been submitted; the preparer runs `batchpay submit` first"
        )
    forged = submission_problem(roster, sub)
    if forged is not None:
        raise ApprovalError(f"batch {batch!r} cannot be approved: {forged}")
    plan = stored_plan(sub)
    changes = payee_changes(ledger, plan, amount_share=settings.review_amount_change)
    totals = {c: to_wire(t) for c, t in plan_totals(plan).items()}
    return ApprovalView(
        batch,
        sub,
        plan,
        totals,
        changes,
        must_acknowledge(changes),
        standing(ledger, roster, batch),
    )


def _may_approve(
    view: ApprovalView, person: Approver, key: SigningKey, digest: str | None, acks: list[str]
) -> None:
    sub = view.submission
    if digest is not None and digest.strip().lower() != sub.digest:
        raise ApprovalError(
            f"--digest {digest} is not the digest of batch {view.batch!r} as submitted "
            f"({sub.digest}): the plan changed since it was reviewed; review it again"
        )
    if person.name == sub.preparer or key.fingerprint == sub.fingerprint:
        raise ApprovalError(
            f"{person.name} prepared batch {view.batch!r} and may not approve it; "
            "another approver must"
        )
    references = {i.payout.reference for i in view.plan.items}
    unknown = [a for a in acks if a not in references]
    if unknown:
        raise UsageError(f"--ack {', '.join(unknown)}: no row of batch {view.batch!r} has it")
    missing = [r for r in view.must_ack if r not in acks]
    if missing:
        shown = "; ".join(
            f"{c.reference}: {c.note}" + (f" ({c.before} -> {c.after})" if c.before else "")
            for c in view.changes
            if c.reference in missing
        )
        raise ApprovalError(
            f"not approved: new or changed payees must be named with --ack: "
            f"{' '.join('--ack ' + m for m in missing)} ({shown})"
        )


def _sign(
    ledger: Ledger,
    roster: Roster,
    view: ApprovalView,
    person: Approver,
    key: SigningKey,
    acks: list[str],
    how: dict[str, str],
) -> Approved:
    sub = view.submission
    mine = [
        a for a in approvals(ledger, view.batch, sub.digest) if a.fingerprint == key.fingerprint
    ]
    if not mine:
        fields = {"action": "approve", "batch": view.batch, "digest": sub.digest, "acks": acks}
        at, payload = _signed(ledger, key, person, fields)
        save_approval(ledger, Approval(0, view.batch, sub.digest, person.name, key.fingerprint,
                                       payload["statement"], payload["signature"],
                                       canonical_json(acks), how["via"], at, 0))  # fmt: skip
        payload.update(acks=acks, **how)
        record_audit(ledger, view.batch, "approve", payload, actor=person.name)
    now = standing(ledger, roster, view.batch)
    counted = [p.name for _, p in now.counted]
    given = mine[0].acks if mine else acks
    return Approved(view.batch, sub.digest, person.name, key.fingerprint, given, counted,
                    now.required, already=bool(mine))  # fmt: skip


def audit_verify(batch: str, *, settings: Settings | None = None) -> AuditVerdict:
    """Check ``batch``'s audit chain and every signature offline (no provider, no network)
    against the approvers file: the verdict lists every problem (none: exit 0, else 1).
    Raises ConfigError when approvals are off, LedgerError without a ledger."""
    from batchpay.ledger.fouryes import audit_entries

    settings = settings or load_settings()
    check_batch_id(batch)
    roster = require_roster(settings)
    if not settings.ledger.exists():
        raise LedgerError(f"no ledger at {settings.ledger} (pass --ledger)")
    with Ledger(settings.ledger, create=False) as ledger:
        problems = verify_batch(ledger, roster, batch)
        trail = audit_entries(ledger, batch)
        return AuditVerdict(batch, len(trail), problems, trail)
