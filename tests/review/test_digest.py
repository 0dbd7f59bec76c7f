"""The plan digest an approval signs: pinned, and sensitive to everything that is paid."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from batchpay.review.digest import amount_text, approval_digest, canonical_plan
from tests.conftest import TRON
from tests.review.helpers import payout, plan_of

ROWS = [payout(2, "E-1", "100.50"), payout(3, "E-2", "20", memo=None)]
# The canonical form, written out: an auditor re-hashes exactly these bytes.
CANONICAL = (
    '{"batch":"payroll-2026-11","fee_option":"deduct","provider":"sandbox","rows":['
    '{"amount":"20","currency":"USDT","destination":{"address":'
    '"TPJNfTfBunWWqME2Povh6thCffaUDumkXV","details":{},"memo":null},"network":"TRON",'
    '"row_key":"037eefbdb28e21f238ae96ca0f2c9715"},'
    '{"amount":"100.5","currency":"USDT","destination":{"address":'
    '"TLfuw4tRywtxCusvTudbjf7PbcXjfe7qrw","details":{},"memo":null},"network":"TRON",'
    '"row_key":"c3410aa9747dc1ad8a2767e0c360fbc8"}],"version":1}'
)
KNOWN = "b4b0835da056a9dfd038072b6243c3efafd999ae679d1c66b1ead83b943bd91c"


def test_known_answer() -> None:
    plan = plan_of("payroll-2026-11", ROWS)
    assert canonical_plan(plan, fee_option="deduct") == CANONICAL.encode()
    assert hashlib.sha256(CANONICAL.encode()).hexdigest() == KNOWN
    assert approval_digest(plan, fee_option="deduct") == KNOWN


def test_the_digest_is_sha256_of_the_canonical_bytes() -> None:
    plan = plan_of("payroll-2026-11", ROWS)
    data = canonical_plan(plan, fee_option="deduct")
    assert approval_digest(plan, fee_option="deduct") == hashlib.sha256(data).hexdigest()
    form = json.loads(data)
    assert form["batch"] == "payroll-2026-11" and form["provider"] == "sandbox"
    assert form["fee_option"] == "deduct"
    keys = [r["row_key"] for r in form["rows"]]
    assert keys == sorted(keys) and {r["amount"] for r in form["rows"]} == {"100.5", "20"}
    assert b" " not in data  # compact, sorted keys
    assert data == json.dumps(form, sort_keys=True, separators=(",", ":")).encode()


def test_a_one_cent_change_changes_the_digest() -> None:
    before = approval_digest(plan_of("b", ROWS), fee_option="deduct")
    cent = [payout(2, "E-1", "100.51"), ROWS[1]]
    assert approval_digest(plan_of("b", cent), fee_option="deduct") != before


def test_the_fee_option_changes_the_digest() -> None:
    plan = plan_of("b", ROWS)
    assert approval_digest(plan, fee_option="deduct") != approval_digest(plan, fee_option="add")


def test_a_rounding_that_changes_the_amount_changes_the_digest() -> None:
    down = [payout(2, "E-1", "100.12", requested="100.125"), ROWS[1]]
    up = [payout(2, "E-1", "100.13", requested="100.125"), ROWS[1]]
    assert approval_digest(plan_of("b", down), fee_option="deduct") != approval_digest(
        plan_of("b", up), fee_option="deduct"
    )


def test_destination_batch_and_provider_enter_the_digest() -> None:
    base = approval_digest(plan_of("b", ROWS), fee_option="deduct")
    memo = [ROWS[0], payout(3, "E-2", "20", memo="7")]
    other_address = [payout(2, "E-1", "100.50", address=TRON[1]), ROWS[1]]
    assert approval_digest(plan_of("b", memo), fee_option="deduct") != base
    assert approval_digest(plan_of("b", other_address), fee_option="deduct") != base
    assert approval_digest(plan_of("c", ROWS), fee_option="deduct") != base
    assert approval_digest(plan_of("b", ROWS, "oxapay"), fee_option="deduct") != base
    bank = {"recipient.account_number": "0012345678", "country_code": "IN"}
    fiat = [payout(2, "E-1", "100", network=None, extra=bank)]
    fiat_other = [payout(2, "E-1", "100", network=None, extra={**bank, "recipient.ifsc": "X"})]
    assert approval_digest(plan_of("b", fiat), fee_option="deduct") != approval_digest(
        plan_of("b", fiat_other), fee_option="deduct"
    )


def test_display_text_and_trailing_zeros_do_not_enter_it() -> None:
    base = approval_digest(plan_of("b", ROWS), fee_option="deduct")
    zeros = [payout(2, "E-1", "100.5000"), payout(3, "E-2", "20.00")]
    assert approval_digest(plan_of("b", zeros), fee_option="deduct") == base
    assert approval_digest(plan_of("b", list(reversed(ROWS))), fee_option="deduct") == base
    assert amount_text(Decimal("1E+2")) == "100" and amount_text(Decimal("0.10")) == "0.1"
