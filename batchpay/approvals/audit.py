"""The audit log: every command on a batch appends an entry (:func:`record_audit`), and
``batchpay audit verify`` checks the whole trail offline (:func:`verify_batch`): no provider,
no network, only the ledger and the approvers file.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from typing import TYPE_CHECKING, Any, TypeVar

from batchpay.approvals.keys import KEY_VAR, public_fingerprint, verify
from batchpay.approvals.policy import (
    Standing,
    roster_of,
    statement_names,
    submission_problem,
    why_not,
)
from batchpay.errors import ConfigError
from batchpay.ledger.fouryes import (
    GENESIS,
    AuditEntry,
    Submission,
    append_audit,
    approvals,
    audit_entries,
    entry_hash,
    plan_from_json,
    submission,
)

if TYPE_CHECKING:
    from batchpay.approvals.roster import Roster
    from batchpay.config import Settings
    from batchpay.ledger import Ledger

R = TypeVar("R")
ACTIONS = ("plan", "review", "submit", "approve", "run", "retry", "status", "report")


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in this environment
        return "unknown"


def current_actor(settings: Settings | None) -> str:
    """Who is at the keyboard: the signing key's name in the approvers file when its public
    half (``BATCHPAY_SIGNING_KEY`` + ``.pub``) is known there, else the OS user."""
    try:
        roster = roster_of(settings) if settings is not None else None
    except ConfigError:  # a broken approvers file is reported by the commands that need it
        roster = None
    if roster is not None and settings is not None:
        named = settings.env.get(KEY_VAR)
        fp = public_fingerprint({KEY_VAR: named} if named else {})
        person = roster.by_fingerprint(fp) if fp else None
        if person is not None:
            return person.name
    return os_user()


def record_audit(
    ledger: Ledger,
    batch: str,
    action: str,
    payload: dict[str, Any],
    settings: Settings | None = None,
    *,
    actor: str | None = None,
) -> None:
    """Append ``action`` (one of ACTIONS) with ``payload`` (JSON data) to ``batch``'s audit
    chain; the actor is ``actor``, else :func:`current_actor`. The hook every command calls."""
    append_audit(ledger, batch, actor or current_actor(settings), action, payload)


def audit_event(settings: Settings, batch: str, action: str, payload: dict[str, Any]) -> None:
    """With four eyes on and a ledger, append ``action`` for ``batch`` (a command that holds
    no ledger open, such as ``review``); without an approvers file, nothing is written."""
    from batchpay.ledger import Ledger

    if settings.approvers is None or not settings.ledger.exists():
        return
    with Ledger(settings.ledger, create=False) as ledger:
        record_audit(ledger, batch, action, payload, settings)


def audit_result(settings: Settings, action: str, result: R, approved: Standing | None = None) -> R:
    """With four eyes on, append ``action`` for a command's RunResult (its counts, requests
    sent and, for a run or retry, the approved digest); returns ``result``. Without an
    approvers file nothing is written (batchpay behaves as before)."""
    summary = getattr(result, "summary", None)
    counts = {k: n for k, n in (summary.counts if summary else {}).items() if n}
    payload: dict[str, Any] = {
        "counts": counts,
        "requests_sent": getattr(result, "requests_sent", 0),
    }
    if approved is not None and approved.submission is not None:
        payload["digest"] = approved.submission.digest
        payload["approvers"] = [p.name for _, p in approved.counted]
    audit_event(settings, str(getattr(result, "batch", "")), action, payload)
    return result


def gate_run(settings: Settings, ledger: Ledger, batch: str, fee_option: str) -> Standing | None:
    """``run``'s last gate, after it saved its plan and before its first payout: the batch's
    rows in the ledger must be the approved plan (:func:`~batchpay.approvals.policy.gate_batch`,
    ApprovalError, exit 5). With four eyes on, the run is logged here, passed or refused, so
    the log reaches every run the ledger knows of (``audit verify`` checks that)."""
    from batchpay.approvals.policy import gate_batch
    from batchpay.errors import ApprovalError

    try:
        approved = gate_batch(settings, ledger, batch, fee_option)
    except ApprovalError as exc:
        record_audit(ledger, batch, "run", {"phase": "refused", "reason": str(exc)}, settings)
        raise
    if approved is not None and approved.submission is not None:
        payload = {
            "phase": "start",
            "digest": approved.submission.digest,
            "approvers": [p.name for _, p in approved.counted],
        }
        record_audit(ledger, batch, "run", payload, settings)
    return approved


# -- audit verify ---------------------------------------------------------------------------


def verify_batch(ledger: Ledger, roster: Roster, batch: str) -> list[str]:
    """Every problem with ``batch``'s trail (empty: the chain and every signature are valid):
    the hash chain, each signed entry against the approvers file (key listed, right role,
    valid signature), and the stored submission and approvals against the chain."""
    entries = audit_entries(ledger, batch)
    if not entries:
        return [f"batch {batch!r} has no audit entries in {ledger.path}"]
    problems = chain_problems(entries) + _tail_problems(ledger, batch, entries)
    signed = {e.payload.get("signature") for e in entries if e.action in ("submit", "approve")}
    before = {GENESIS}
    for e in entries:
        if e.action in ("submit", "approve"):
            problems += _signed_problems(e, roster, e.action, before)
        before.add(e.hash)
    sub = submission(ledger, batch)
    if sub is not None:
        problems += _submission_problems(sub, roster, signed)
        for a in approvals(ledger, batch, sub.digest):
            _, reason = why_not(roster, sub, a)
            if reason is not None:
                problems.append(f"approval {a.id}: {reason}")
            if a.signature not in signed:
                problems.append(f"approval {a.id} by {a.approver} is not in the audit log")
    return problems


def chain_problems(entries: list[AuditEntry]) -> list[str]:
    problems: list[str] = []
    prev = GENESIS
    for number, e in enumerate(entries, start=1):
        if e.seq != number:
            problems.append(f"entry {number} is missing (found {e.seq} in its place)")
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq} does not follow the entry before it")
        try:
            again = entry_hash(
                e.prev_hash, e.batch_id, e.seq, e.at, e.actor, e.action, e.payload_json
            )
        except (TypeError, ValueError):  # a payload that is not JSON, a NULL written by hand
            again = ""
        if again != e.hash:
            problems.append(f"entry {e.seq} ({e.action}) was altered: its hash does not match")
        prev = e.hash
    return problems


def _tail_problems(ledger: Ledger, batch: str, entries: list[AuditEntry]) -> list[str]:
    """The log must reach the batch's last run: ``run`` writes an entry after it saves its
    plan and before its first payout, so a log whose last ``run`` entry is older than the
    ledger's last run of the batch lost entries at its end."""
    info = ledger.batch(batch)
    if info is None:
        return []
    runs = [e.at for e in entries if e.action == "run" and isinstance(e.at, str)]
    if not runs or max(runs) < info.last_run_at:
        return [
            f"the audit log ends before the batch's last run (at {info.last_run_at}): "
            "entries are missing at its end"
        ]
    return []


def _signed_problems(e: AuditEntry, roster: Roster, action: str, before: set[str]) -> list[str]:
    """A submit or approve entry: its signer is listed with a role that may do it, the
    signature over its statement is valid, and the chain head it signed (``audit_head``) is
    an entry before it (``before``: their hashes, and GENESIS)."""
    p = e.payload
    fp, name = str(p.get("fingerprint")), str(p.get("name"))
    where = f"entry {e.seq} ({action} by {name})"
    person = roster.by_fingerprint(fp)
    if person is None:
        return [f"{where}: key {fp} is not in the approvers file {roster.path}"]
    if person.name != name:
        return [f"{where}: key {fp} belongs to {person.name}"]
    if action == "approve" and not person.may_approve:
        return [f"{where}: {person.name} is a {person.role}, not an approver"]
    statement = str(p.get("statement"))
    if not statement_names(statement, e.batch_id, str(p.get("digest")), action):
        return [f"{where}: the signed statement names another batch or digest"]
    if not verify(person.key, statement.encode("utf-8"), str(p.get("signature"))):
        return [f"{where}: the signature is not valid (forged or altered)"]
    if _signed_head(statement) not in before:
        return [f"{where}: the entries before it were rewritten (its signed chain head is gone)"]
    return []


def _signed_head(statement: str) -> str | None:
    try:
        head = json.loads(statement).get("audit_head")
    except (AttributeError, ValueError):
        return None
    return head if isinstance(head, str) else None


def _submission_problems(sub: Submission, roster: Roster, signed: set[Any]) -> list[str]:
    from batchpay.review.digest import canonical_plan

    problems = []
    if hashlib.sha256(sub.canonical.encode("utf-8")).hexdigest() != sub.digest:
        problems.append("the submitted plan does not hash to its digest")
    try:
        codes = json.loads(sub.canonical).get("network_codes")  # as submitted
        rebuilt = canonical_plan(
            plan_from_json(sub.plan_json), fee_option=sub.fee_option, networks=codes
        )
    except (AttributeError, ValueError) as exc:
        rebuilt = f"({exc})".encode()
    if rebuilt.decode("utf-8") != sub.canonical:
        problems.append("the stored plan to pay is not the plan that was submitted")
    forged = submission_problem(roster, sub)
    if forged is not None:
        problems.append(forged)
    if sub.signature not in signed:
        problems.append("the submission is not in the audit log")
    return problems
