"""Four eyes against someone who can write to the ledger (issue #14): run verifies signatures
and pays only the approved plan, whatever the ledger's tables say."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from batchpay import api, fouryes_api
from batchpay.errors import ApprovalError
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
    sent_requests,
)
from tests.conftest import TRON


def _sql(path: object, statement: str, *args: object) -> None:
    db = sqlite3.connect(str(path))
    with db:
        db.execute(statement, args)
    db.close()


def test_rows_edited_in_the_ledger_after_the_approval_are_never_paid(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    # the approved plan is saved (an earlier run stopped before sending), then a row's
    # address is changed in the ledger: the resume must not pay it
    sheet = write_sheet(SMALL)
    settings, _ = approved(workdir, sheet)
    with Ledger(settings.ledger) as ledger:
        found = submission(ledger, "nov")
        assert found is not None
        ledger.save_plan(found.plan(), sandbox=True, rounding="down", fee_option="deduct")
    _sql(settings.ledger, "UPDATE payouts SET address = ? WHERE reference = 'E-2'", TRON[3])
    for sheet_or_none in (sheet, None):
        provider = "sandbox" if sheet_or_none else None
        with pytest.raises(ApprovalError, match="the batch's rows in the ledger give") as refused:
            api.run(sheet_or_none, provider, "nov", settings=settings)
        assert refused.value.exit_code == 5
    assert sent_requests(settings, "nov") == 0
    _sql(settings.ledger, "UPDATE payouts SET address = ? WHERE reference = 'E-2'", TRON[1])
    assert api.run(sheet, "sandbox", "nov", settings=settings).requests_sent == 2


def test_a_preparer_renamed_in_the_ledger_does_not_let_them_approve_their_own_batch(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings = four_eyes(workdir, TEAM)
    sheet = write_sheet(SMALL)
    done = fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=BOB)
    _sql(
        settings.ledger,
        "UPDATE submissions SET preparer = 'Alice Finance', fingerprint = ?",
        ALICE.fingerprint,
    )
    with pytest.raises(ApprovalError, match="submission's signature \\(Alice Finance\\) is not"):
        fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest)
    with Ledger(settings.ledger) as ledger:  # Bob's approval written by hand
        statement = canonical_json(
            {"acks": [], "action": "approve", "at": "t", "batch": "nov", "digest": done.digest}
        )
        save_approval(ledger, Approval(0, "nov", done.digest, "Bob Controller", BOB.fingerprint,
                                       statement, BOB.sign(statement.encode()), "[]", "cli",
                                       "t", 0))  # fmt: skip
    with pytest.raises(ApprovalError, match="cannot be trusted") as refused:
        api.run(sheet, "sandbox", "nov", settings=settings)
    assert refused.value.exit_code == 5
    assert sent_requests(settings, "nov") == 0
    assert not fouryes_api.audit_verify("nov", settings=settings).ok


def test_a_preparers_signature_is_never_replayed_as_an_approval(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    # Carol submits, Alice submits the same plan again (now the preparer): Carol's submit
    # signature copied into the approvals table is not Carol's approval
    settings = four_eyes(workdir, TEAM)
    sheet = write_sheet(SMALL)
    fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=CAROL)
    with Ledger(settings.ledger) as ledger:
        carol = submission(ledger, "nov")
    assert carol is not None
    done = fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=ALICE)
    assert done.digest == carol.digest
    with Ledger(settings.ledger) as ledger:
        save_approval(ledger, Approval(0, "nov", done.digest, "Carol Audit", CAROL.fingerprint,
                                       carol.statement, carol.signature, "[]", "cli", "t",
                                       0))  # fmt: skip
    with pytest.raises(ApprovalError, match="signs another batch or digest"):
        api.run(sheet, "sandbox", "nov", settings=settings)
    assert sent_requests(settings, "nov") == 0


def test_a_threshold_in_the_reporting_currency_values_the_batch(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    from decimal import Decimal

    from batchpay.approvals.roster import Policy, Threshold

    policy = Policy(1, (Threshold("EUR", Decimal("250"), 2),))
    usdt = {"USDT": Decimal("300")}
    assert policy.required(usdt) == 1  # no reporting currency: EUR is just another currency
    assert policy.required(usdt, "EUR", {"USDT": Decimal("0.9")}) == 2  # 270 EUR
    assert policy.required(usdt, "EUR", {"USDT": Decimal("0.8")}) == 1  # 240 EUR
    assert policy.required(usdt, "EUR", {}) == 2  # no rate: the threshold applies
    assert policy.required({"EUR": Decimal("240")}, "EUR", {}) == 1

    rates = workdir / "rates.csv"
    rates.write_text("date,currency,rate\n2026-10-01,USDT,0.5\n2026-11-01,USDT,0.9\n")
    settings = four_eyes(
        workdir, TEAM, above=[("EUR", "250", 2)], reporting_currency="EUR", rates=rates
    )
    sheet = write_sheet(SMALL)  # 300 USDT = 270 EUR at the latest rate
    done = fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=ALICE)
    assert done.required == 2
    fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest)
    with pytest.raises(ApprovalError, match="needs 2 approval\\(s\\) and has 1"):
        api.run(sheet, "sandbox", "nov", settings=settings)
    assert sent_requests(settings, "nov") == 0


@pytest.mark.parametrize("change", ["removed", "preparer", "renamed"])
def test_an_approval_stops_counting_when_the_approvers_file_changes(
    workdir: Path, write_sheet: Callable[..., Path], change: str
) -> None:
    from tests.approvals.helpers import approvers_toml

    sheet = write_sheet(SMALL)
    settings, _ = approved(workdir, sheet)
    people = {
        "removed": [TEAM[0], TEAM[2]],
        "preparer": [TEAM[0], ("Bob Controller", "preparer", BOB), TEAM[2]],
        "renamed": [TEAM[0], ("Robert Controller", "approver", BOB), TEAM[2]],
    }[change]
    (workdir / "approvers.toml").write_text(approvers_toml(people), encoding="utf-8")
    with pytest.raises(ApprovalError, match="has 0; not counted") as refused:
        api.run(sheet, "sandbox", "nov", settings=settings)
    assert refused.value.exit_code == 5
    assert sent_requests(settings, "nov") == 0
    assert not fouryes_api.audit_verify("nov", settings=settings).ok


def test_a_network_code_override_after_the_approval_is_a_change(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    # [networks.<provider>] decides on which chain the money goes: it enters the digest
    sheet = write_sheet(SMALL)
    settings, _ = approved(workdir, sheet)
    unused = four_eyes(workdir, TEAM, networks={"sandbox": {"ETHEREUM": "ERC20"}})
    remapped = four_eyes(workdir, TEAM, networks={"sandbox": {"TRON": "TRC20"}})
    for sheet_or_none in (sheet, None):
        provider = "sandbox" if sheet_or_none else None
        with pytest.raises(ApprovalError, match="no longer matches"):
            api.run(sheet_or_none, provider, "nov", settings=remapped)
    assert sent_requests(settings, "nov") == 0
    # an override for a network the plan does not pay on changes nothing
    assert api.run(sheet, "sandbox", "nov", settings=unused).requests_sent == 2


def test_a_submission_under_an_override_verifies(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    settings = four_eyes(workdir, TEAM, networks={"sandbox": {"TRON": "TRC20"}})
    sheet = write_sheet(SMALL)
    done = fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=ALICE)
    with Ledger(settings.ledger) as ledger:
        found = submission(ledger, "nov")
    assert found is not None and '"network_codes":{"TRON":"TRC20"}' in found.canonical
    fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest)
    assert api.run(None, None, "nov", settings=settings).requests_sent == 2
    assert fouryes_api.audit_verify("nov", settings=settings).problems == []
