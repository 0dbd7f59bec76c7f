"""Four eyes before money moves (issue #14, "Done when"): run refuses, with exit 5 and nothing
sent, a batch without its approvals or whose plan is not the approved one; the preparer's own
approval never counts; thresholds raise the count; changed payees must be acknowledged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from batchpay import api, fouryes_api
from batchpay.approvals.policy import standing
from batchpay.approvals.roster import load_roster
from batchpay.errors import ApprovalError, UsageError
from batchpay.ledger import Ledger
from batchpay.ledger.fouryes import Approval, canonical_json, save_approval, submission
from tests.approvals.helpers import (
    ALICE,
    BOB,
    CAROL,
    SMALL,
    TEAM,
    approved,
    four_eyes,
    new_key,
    sent_requests,
)
from tests.conftest import TRON


def test_an_unapproved_batch_is_refused_with_exit_5_and_nothing_sent(
    workdir: Path, write_sheet: Callable[..., Path], ledger_url: str
) -> None:
    settings = four_eyes(workdir, TEAM, ledger=ledger_url)  # SQLite and PostgreSQL
    sheet = write_sheet(SMALL)
    with pytest.raises(ApprovalError, match="has not been submitted") as refused:
        api.run(sheet, "sandbox", "nov", settings=settings)
    assert refused.value.exit_code == 5
    assert sent_requests(settings, "nov") == 0

    fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=ALICE)
    with pytest.raises(ApprovalError, match="needs 1 approval\\(s\\) and has 0") as refused:
        api.run(sheet, "sandbox", "nov", settings=settings)
    assert refused.value.exit_code == 5
    with Ledger(settings.ledger) as ledger:
        assert ledger.batch("nov") is None  # no row planned, nothing sent
    assert sent_requests(settings, "nov") == 0

    fouryes_api.approve("nov", settings=settings, key=BOB, confirm=lambda view: True)
    result = api.run(sheet, "sandbox", "nov", settings=settings)
    assert result.summary is not None
    assert result.summary.counts["completed"] == 2
    assert sent_requests(settings, "nov") == 2


def test_an_approved_batch_whose_sheet_changed_by_one_cent_is_refused(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet(SMALL)
    settings, _ = approved(workdir, sheet)
    changed = write_sheet([("E-1", "100.01"), ("E-2", "200.00")])
    with pytest.raises(ApprovalError, match="no longer matches") as refused:
        api.run(changed, "sandbox", "nov", settings=settings)
    assert refused.value.exit_code == 5
    assert sent_requests(settings, "nov") == 0


def test_a_config_value_that_enters_the_plan_counts_as_a_change(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet(SMALL)
    settings, _ = approved(workdir, sheet)
    other = four_eyes(workdir, TEAM, fee_option="add")
    with pytest.raises(ApprovalError, match="no longer matches"):
        api.run(sheet, "sandbox", "nov", settings=other)
    with pytest.raises(ApprovalError, match="no longer matches"):
        api.run(None, None, "nov", settings=other)  # the submitted plan under another setting
    assert sent_requests(settings, "nov") == 0
    result = api.run(None, None, "nov", settings=settings)  # no sheet: the submitted plan
    assert result.summary is not None and result.summary.counts["completed"] == 2


def test_the_preparers_own_approval_does_not_count(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    # Bob (an approver) prepares; he may not approve his own batch, and a signature of his
    # that reaches the ledger anyway does not count
    settings = four_eyes(workdir, TEAM)
    sheet = write_sheet(SMALL)
    done = fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=BOB)
    with pytest.raises(ApprovalError, match="prepared batch 'nov' and may not approve it"):
        fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest)
    with Ledger(settings.ledger) as ledger:
        statement = canonical_json(
            {"action": "approve", "batch": "nov", "digest": done.digest, "acks": [], "at": "t"}
        )
        own = Approval(0, "nov", done.digest, "Bob Controller", BOB.fingerprint, statement,
                       BOB.sign(statement.encode()), "[]", "cli", "t", 0)  # fmt: skip
        save_approval(ledger, own)
        found = standing(ledger, load_roster(workdir / "approvers.toml"), "nov")
    assert found.counted == [] and not found.approved
    assert "the preparer's approval never counts" in found.ignored[0][1]
    with pytest.raises(ApprovalError, match="needs 1 approval\\(s\\) and has 0"):
        api.run(sheet, "sandbox", "nov", settings=settings)
    assert sent_requests(settings, "nov") == 0
    fouryes_api.approve("nov", settings=settings, key=CAROL, digest=done.digest)
    assert api.run(sheet, "sandbox", "nov", settings=settings).requests_sent == 2


def test_a_preparer_and_a_key_not_in_the_file_may_not_approve(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings = four_eyes(workdir, TEAM)
    done = fouryes_api.submit(write_sheet(SMALL), "sandbox", "nov", settings=settings, key=ALICE)
    with pytest.raises(ApprovalError, match="is a preparer"):
        fouryes_api.approve("nov", settings=settings, key=ALICE, digest=done.digest)
    with pytest.raises(ApprovalError, match="not in the approvers file"):
        fouryes_api.approve("nov", settings=settings, key=new_key(), digest=done.digest)


@pytest.mark.parametrize(("amounts", "needed"), [(("400", "500"), 1), (("600", "500"), 2)])
def test_two_approvals_are_needed_above_the_threshold(
    workdir: Path, write_sheet: Callable[..., Path], amounts: tuple[str, str], needed: int
) -> None:
    settings = four_eyes(workdir, TEAM, approvals=1, above=[("USDT", "1000", 2)])
    sheet = write_sheet([("E-1", amounts[0]), ("E-2", amounts[1])])
    done = fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=ALICE)
    assert done.required == needed
    first = fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest)
    assert (first.counted, first.required) == (["Bob Controller"], needed)
    if needed == 2:  # 1100 USDT is above 1000: one approval is not enough
        with pytest.raises(ApprovalError, match="needs 2 approval\\(s\\) and has 1"):
            api.run(sheet, "sandbox", "nov", settings=settings)
        assert sent_requests(settings, "nov") == 0
        again = fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest)
        assert again.already and again.counted == ["Bob Controller"]  # a person counts once
        fouryes_api.approve("nov", settings=settings, key=CAROL, digest=done.digest)
    assert api.run(sheet, "sandbox", "nov", settings=settings).requests_sent == 2


def _month(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["reference,name,amount,currency,network,address,memo,description"]
    lines += [f"{ref},P {ref},{amount},USDT,TRON,{address},,pay" for ref, amount, address in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_payee_paid_last_month_to_another_address_must_be_acknowledged(workdir: Path) -> None:
    settings = four_eyes(workdir, TEAM)
    october = _month(workdir / "oct.csv", [("E-1", "100", TRON[0]), ("E-2", "200", TRON[1])])
    done = fouryes_api.submit(october, "sandbox", "oct", settings=settings, key=ALICE)
    fouryes_api.approve("oct", settings=settings, key=BOB, digest=done.digest)
    api.run(october, "sandbox", "oct", settings=settings)

    # E-2's wallet "was updated" by an email; E-3 is new
    # (a month later amounts differ a little: the same amount again would be "paid recently")
    rows = [("E-1", "110", TRON[0]), ("E-2", "210", TRON[2]), ("E-3", "50", TRON[3])]
    november = _month(workdir / "nov.csv", rows)
    done = fouryes_api.submit(november, "sandbox", "nov", settings=settings, key=ALICE)
    shown: list[fouryes_api.ApprovalView] = []

    def confirm(view: fouryes_api.ApprovalView) -> bool:
        shown.append(view)
        return True

    with pytest.raises(ApprovalError, match="named with --ack: --ack E-2 --ack E-3 ") as refused:
        fouryes_api.approve("nov", settings=settings, key=BOB, confirm=confirm)
    assert refused.value.exit_code == 5
    assert TRON[2] in str(refused.value) and TRON[1] in str(refused.value)
    assert shown == []  # refused before anything is signed or asked
    with pytest.raises(ApprovalError, match="--ack E-2"):
        fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest, acks=["E-3"])
    with pytest.raises(UsageError, match="E-9"):
        fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest, acks=["E-9"])
    with pytest.raises(ApprovalError, match="needs 1"):
        api.run(november, "sandbox", "nov", settings=settings)

    def look(view: fouryes_api.ApprovalView) -> bool:
        changes = {(c.reference, c.kind): c for c in view.changes}
        assert changes[("E-2", "destination")].before is not None
        assert TRON[1] in str(changes[("E-2", "destination")].before)
        assert TRON[2] in str(changes[("E-2", "destination")].after)
        assert ("E-3", "new") in changes and view.must_ack == ["E-2", "E-3"]
        return True

    ok = fouryes_api.approve("nov", settings=settings, key=BOB, acks=["E-2", "E-3"], confirm=look)
    assert ok.acks == ["E-2", "E-3"] and ok.counted == ["Bob Controller"]
    assert api.run(november, "sandbox", "nov", settings=settings).requests_sent == 3


def test_approve_binds_to_the_digest_and_needs_a_terminal_or_a_flag(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings = four_eyes(workdir, TEAM)
    fouryes_api.submit(write_sheet(SMALL), "sandbox", "nov", settings=settings, key=ALICE)
    with pytest.raises(ApprovalError, match="is not the digest") as refused:
        fouryes_api.approve("nov", settings=settings, key=BOB, digest="ab" * 32)
    assert refused.value.exit_code == 5
    with pytest.raises(UsageError, match=r"--digest D .* or --yes"):
        fouryes_api.approve("nov", settings=settings, key=BOB)  # no terminal, no flag
    with pytest.raises(ApprovalError, match="declined"):
        fouryes_api.approve("nov", settings=settings, key=BOB, confirm=lambda view: False)
    with Ledger(settings.ledger) as ledger:
        assert not standing(ledger, load_roster(settings.approvers or Path()), "nov").counted


def test_resubmitting_a_changed_sheet_voids_earlier_approvals(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings = four_eyes(workdir, TEAM)
    first = fouryes_api.submit(write_sheet(SMALL), "sandbox", "nov", settings=settings, key=ALICE)
    fouryes_api.approve("nov", settings=settings, key=BOB, digest=first.digest)
    changed = write_sheet([("E-1", "100.00"), ("E-2", "250.00")])
    second = fouryes_api.submit(changed, "sandbox", "nov", settings=settings, key=ALICE)
    assert second.digest != first.digest and second.voided == 1
    with Ledger(settings.ledger) as ledger:
        sub = submission(ledger, "nov")
        assert sub is not None and sub.digest == second.digest
    with pytest.raises(ApprovalError, match="has 0"):
        api.run(changed, "sandbox", "nov", settings=settings)
    with pytest.raises(ApprovalError, match="no longer matches"):
        api.run(write_sheet(SMALL), "sandbox", "nov", settings=settings)


def test_without_an_approvers_file_run_is_as_before_and_the_report_says_not_approved(
    settings: object, write_sheet: Callable[..., Path], workdir: Path
) -> None:
    from batchpay.config import Settings

    assert isinstance(settings, Settings) and settings.approvers is None
    result = api.run(write_sheet(SMALL), "sandbox", "nov", settings=settings)
    assert result.requests_sent == 2
    html = (workdir / "reports" / "reconciliation.html").read_text(encoding="utf-8")
    assert "<dt>Approval</dt><dd>not approved</dd>" in html
    with Ledger(settings.ledger) as ledger:
        from batchpay.ledger.fouryes import audit_entries

        assert audit_entries(ledger, "nov") == []  # nothing new is written without four eyes


def test_the_report_shows_who_prepared_and_who_approved(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet(SMALL)
    settings, digest = approved(workdir, sheet)
    api.run(None, None, "nov", settings=settings)
    html = (workdir / "reports" / "reconciliation.html").read_text(encoding="utf-8")
    assert "<dt>Approval</dt><dd>approved</dd>" in html
    assert digest in html
    assert f'Alice Finance <span class="mono">{ALICE.fingerprint}</span>' in html
    assert f'Bob Controller <span class="mono">{BOB.fingerprint}</span>' in html


def test_retry_is_gated_too(workdir: Path, write_sheet: Callable[..., Path]) -> None:
    plain = four_eyes(workdir, TEAM)
    sheet = write_sheet(SMALL)
    from dataclasses import replace

    api.run(sheet, "sandbox", "nov", settings=replace(plain, approvers=None))  # before 4 eyes
    with pytest.raises(ApprovalError, match="has not been submitted") as refused:
        api.retry("nov", settings=plain)
    assert refused.value.exit_code == 5
