"""The audit log: every command appends an entry chained to the one before, and `audit
verify` finds a tampered entry, a forged signature and a key not in the approvers file."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from batchpay import api, fouryes_api
from batchpay.approvals.policy import standing
from batchpay.approvals.roster import load_roster
from batchpay.config import Settings
from batchpay.ledger import Ledger
from batchpay.ledger.fouryes import (
    Approval,
    append_audit,
    audit_entries,
    canonical_json,
    save_approval,
)
from tests.approvals.helpers import (
    ALICE,
    BOB,
    CAROL,
    SMALL,
    TEAM,
    approvers_toml,
    four_eyes,
    new_key,
)


def _paid(
    workdir: Path, write_sheet: Callable[..., Path], ledger: str | None = None
) -> tuple[Settings, str]:
    """A batch submitted, approved, dry-run, run, refreshed and reported, all under four eyes."""
    settings = four_eyes(workdir, TEAM, ledger=ledger or workdir / "ledger.sqlite")
    sheet = write_sheet(SMALL)
    done = fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=ALICE)
    fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest)
    api.review(sheet, "sandbox", "nov", settings=settings)
    api.run(sheet, "sandbox", "nov", settings=settings, dry_run=True)
    api.run(None, None, "nov", settings=settings)
    api.status("nov", settings=settings)
    api.report("nov", settings=settings)
    return settings, done.digest


def _verify(settings: Settings) -> list[str]:
    return fouryes_api.audit_verify("nov", settings=settings).problems


def test_every_command_appends_a_chained_entry_and_the_trail_verifies(
    workdir: Path, write_sheet: Callable[..., Path], ledger_url: str
) -> None:
    settings, digest = _paid(workdir, write_sheet, ledger=ledger_url)  # SQLite and PostgreSQL
    with Ledger(settings.ledger) as ledger:
        entries = audit_entries(ledger, "nov")
    actions = [e.action for e in entries]
    # a run is logged before its first payout (phase start) and when it ends
    assert actions == ["submit", "approve", "review", "plan", "run", "run", "status", "report"]
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert entries[0].actor == "Alice Finance" and entries[1].actor == "Bob Controller"
    assert entries[2].payload == {"digest": digest}  # the review saw the submitted plan
    assert entries[4].payload == {
        "phase": "start",
        "digest": digest,
        "approvers": ["Bob Controller"],
    }
    assert entries[5].payload["digest"] == digest
    assert entries[5].payload["approvers"] == ["Bob Controller"]
    assert entries[5].payload["counts"] == {"completed": 2}
    verdict = fouryes_api.audit_verify("nov", settings=settings)
    assert verdict.ok and verdict.entries == 8 and verdict.problems == []


def test_a_tampered_audit_entry_fails_verification(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings, _ = _paid(workdir, write_sheet)
    with sqlite3.connect(str(settings.ledger)) as db:
        db.execute(
            "UPDATE audit_entries SET payload_json = ? WHERE batch_id = 'nov' AND seq = 6",
            ('{"counts":{"completed":1},"requests_sent":1}',),
        )
    db.close()
    assert _verify(settings) == ["entry 6 (run) was altered: its hash does not match"]


def test_a_removed_audit_entry_fails_verification(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings, _ = _paid(workdir, write_sheet)
    with sqlite3.connect(str(settings.ledger)) as db:
        db.execute("DELETE FROM audit_entries WHERE batch_id = 'nov' AND seq = 3")
    db.close()
    problems = _verify(settings)
    assert "entry 3 is missing (found 4 in its place)" in problems
    assert "entry 4 does not follow the entry before it" in problems


def test_a_forged_signature_fails_verification(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings, digest = _paid(workdir, write_sheet)
    mallory = new_key()  # signs in Carol's name, with Carol's fingerprint
    statement = canonical_json(
        {"action": "approve", "batch": "nov", "digest": digest, "acks": [], "at": "t"}
    )
    forged = mallory.sign(statement.encode())
    with Ledger(settings.ledger) as ledger:
        save_approval(ledger, Approval(0, "nov", digest, "Carol Audit", CAROL.fingerprint,
                                       statement, forged, "[]", "cli", "t", 0))  # fmt: skip
        payload = {
            "digest": digest,
            "name": "Carol Audit",
            "fingerprint": CAROL.fingerprint,
            "statement": statement,
            "signature": forged,
            "acks": [],
            "via": "cli",
        }
        append_audit(ledger, "nov", "Carol Audit", "approve", payload)
    problems = _verify(settings)
    assert problems == [
        "entry 9 (approve by Carol Audit): the signature is not valid (forged or altered)",
        "approval 2: Carol Audit's signature is not valid (forged or altered)",
    ]
    with Ledger(settings.ledger) as ledger:  # and the forged approval never counts
        found = standing(ledger, load_roster(workdir / "approvers.toml"), "nov")
    assert [p.name for _, p in found.counted] == ["Bob Controller"]


def test_a_key_not_in_the_approvers_file_fails_verification(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings, _ = _paid(workdir, write_sheet)
    # Bob's line is taken out of the file after he approved
    (workdir / "approvers.toml").write_text(approvers_toml([TEAM[0], TEAM[2]]), encoding="utf-8")
    problems = _verify(settings)
    assert len(problems) == 2
    assert problems[0].startswith(f"entry 2 (approve by Bob Controller): key {BOB.fingerprint}")
    assert "is not in the approvers file" in problems[0]
    assert "approval 1: key" in problems[1] and "is not in the approvers file" in problems[1]


def test_an_altered_submitted_plan_fails_verification(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings, _ = _paid(workdir, write_sheet)
    with sqlite3.connect(str(settings.ledger)) as db:
        text = db.execute("SELECT plan_json FROM submissions").fetchone()[0]
        db.execute("UPDATE submissions SET plan_json = ?", (text.replace("200", "900"),))
    db.close()
    assert _verify(settings) == ["the stored plan to pay is not the plan that was submitted"]


def test_audit_verify_needs_no_provider_and_no_network(
    workdir: Path, write_sheet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = _paid(workdir, write_sheet)
    import batchpay.providers

    def no_provider(*args: object, **kwargs: object) -> None:
        raise AssertionError("audit verify opened a provider")

    monkeypatch.setattr(batchpay.providers, "open_provider", no_provider)
    monkeypatch.setattr("socket.socket.connect", no_provider)
    assert _verify(settings) == []


def test_approve_and_audit_verify_take_a_postgresql_ledger_url(
    workdir: Path, write_sheet: Callable[..., Path], pg_url: str
) -> None:
    from click.testing import CliRunner

    from batchpay.approvals.keys import generate_key
    from batchpay.cli import main

    bob = generate_key(workdir / "bob_ed25519", "bob@example")
    settings = four_eyes(workdir, [TEAM[0], ("Bob Controller", "approver", bob)], ledger=pg_url)
    (workdir / "batchpay.toml").write_text('approvers = "approvers.toml"\n', encoding="utf-8")
    done = fouryes_api.submit(write_sheet(SMALL), "sandbox", "nov", settings=settings, key=ALICE)
    cli = CliRunner(env={"BATCHPAY_SIGNING_KEY": str(workdir / "bob_ed25519")})
    approved = cli.invoke(
        main, ["approve", "--batch", "nov", "--digest", done.digest, "--ledger", pg_url]
    )
    assert approved.exit_code == 0, approved.output
    verified = cli.invoke(main, ["audit", "verify", "--batch", "nov", "--ledger", pg_url])
    assert verified.exit_code == 0, verified.output
    with Ledger(pg_url) as ledger:
        assert [e.action for e in audit_entries(ledger, "nov")] == ["submit", "approve"]
        found = standing(ledger, load_roster(workdir / "approvers.toml"), "nov")
        assert [p.name for _, p in found.counted] == ["Bob Controller"]


def _rechain(db: sqlite3.Connection) -> None:
    """Recompute every hash of batch nov's chain, as someone who rewrote an entry would."""
    from batchpay.ledger.fouryes import GENESIS, entry_hash

    prev = GENESIS
    rows = db.execute(
        "SELECT seq, at, actor, action, payload_json FROM audit_entries"
        " WHERE batch_id = 'nov' ORDER BY seq"
    ).fetchall()
    for number, (_, at, actor, action, payload) in enumerate(rows, start=1):
        new = entry_hash(prev, "nov", number, at, actor, action, payload)
        db.execute(
            "UPDATE audit_entries SET seq = ?, prev_hash = ?, hash = ? WHERE batch_id = 'nov'"
            " AND at = ? AND action = ? AND payload_json = ?",
            (number, prev, new, at, action, payload),
        )
        prev = new


def test_entries_cut_from_the_end_of_the_log_fail_verification(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings, _ = _paid(workdir, write_sheet)
    with sqlite3.connect(str(settings.ledger)) as db:  # the run, status and report entries go
        db.execute("DELETE FROM audit_entries WHERE batch_id = 'nov' AND seq >= 5")
    db.close()
    problems = _verify(settings)
    assert len(problems) == 1
    assert problems[0].startswith("the audit log ends before the batch's last run (at ")
    assert problems[0].endswith("): entries are missing at its end")


def test_an_entry_rewritten_with_every_hash_recomputed_fails_verification(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    # the chain is plain SHA-256: anyone can recompute it; the approval signed the head
    settings, _ = _paid(workdir, write_sheet)
    with sqlite3.connect(str(settings.ledger)) as db:
        db.execute("UPDATE audit_entries SET actor = 'Mallory' WHERE batch_id = 'nov' AND seq = 1")
        _rechain(db)
    db.close()
    problems = _verify(settings)
    assert problems == [
        "entry 2 (approve by Bob Controller): the entries before it were rewritten "
        "(its signed chain head is gone)"
    ]


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("audit_entries", "payload_json", "garbage"),
        ("audit_entries", "payload_json", "[1]"),
        ("submissions", "plan_json", "{}"),
        ("submissions", "plan_json", "not json"),
        ("submissions", "statement", "[]"),
        ("approvals", "statement", "null"),
        ("approvals", "acks_json", "garbage"),
    ],
)
def test_garbage_in_the_tables_is_a_problem_not_a_crash(
    workdir: Path, write_sheet: Callable[..., Path], table: str, column: str, value: str
) -> None:
    from batchpay.errors import ApprovalError

    settings, _ = _paid(workdir, write_sheet)
    with sqlite3.connect(str(settings.ledger)) as db:
        db.execute(f"UPDATE {table} SET {column} = ?", (value,))
    db.close()
    if column != "acks_json":  # display only: the signed statement holds the acks
        assert _verify(settings) != []
    with pytest.raises(ApprovalError) as refused:  # a changed sheet: not paid, whatever the tables
        api.run(write_sheet([("E-1", "100.01")]), "sandbox", "nov", settings=settings)
    assert refused.value.exit_code == 5
