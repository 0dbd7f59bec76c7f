"""Each address and memo/tag is decoded once into one canonical form, used for every
comparison, every request and the report (issue 12, 4b and 4c)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from batchpay import api
from batchpay.config import Settings
from batchpay.ingest import read_sheet
from batchpay.validate import Validated, validate_sheet
from batchpay.validate.addresses import FAMILY_NAMES, canonical_address, check_address, looks_like
from tests.conftest import ETH, TRON
from tests.validate.test_addresses import FAMILY, VECTORS, _expected

HEADER = "reference,amount,currency,network,address,memo\n"
BECH32 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
XRP = "rGWrZyQqhTp9Xu7G5Pkayo7bXjH4k4QYpf"
XRP_MAX_TAG = "XVLhHMPHU98es4dbozjVtdWzVrDjtV18pX8yuPT7y4xaEHi"  # XRP + tag 4294967295
XRP_TAG_13 = "XVLhHMPHU98es4dbozjVtdWzVrDjtVoUhWS5SgMMoLoBzqQ"  # XRP + tag 13
TON_BOUNCEABLE = "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB"
TON_PLAIN = "UQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi41-E"
TON_RAW = "0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3"
ACCEPTED = [
    (FAMILY[str(v["network"])], str(v["address"]))
    for v in VECTORS
    if _expected(v) and check_address(FAMILY[str(v["network"])], str(v["address"])).ok
]


def _check(tmp_path: Path, text: str) -> Validated:
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    return validate_sheet(read_sheet(path), "sandbox")


def _codes(result: Validated) -> set[tuple[int | None, str, str]]:
    return {(p.row, p.code, str(p.severity)) for p in result.problems}


@pytest.mark.parametrize(("family", "address"), ACCEPTED, ids=lambda x: str(x)[:24])
def test_every_accepted_vector_has_one_stable_canonical_form(family: str, address: str) -> None:
    form = canonical_address(family, address)
    assert check_address(family, form.address).ok
    again = canonical_address(family, form.address)
    assert (again.address, again.identity) == (form.address, form.identity)
    if family in ("bitcoin", "litecoin", "evm") and address.isascii():
        for variant in {address.lower(), address.upper(), "0x" + address[2:].upper()}:
            if check_address(family, variant).ok:
                assert canonical_address(family, variant).identity == form.identity


def test_the_canonical_forms_per_family() -> None:
    assert canonical_address("bitcoin", BECH32.upper()).address == BECH32
    assert canonical_address("evm", ETH.lower()).address == ETH
    assert canonical_address("evm", "0x" + ETH[2:].upper()).address == ETH
    assert canonical_address("tron", TRON[0]).address == TRON[0]  # base58: case matters
    tons = [TON_BOUNCEABLE, TON_PLAIN, TON_BOUNCEABLE.replace("-", "+"), TON_RAW.upper()]
    assert {canonical_address("ton", t).identity for t in tons} == {TON_RAW}
    # the user's bounceable flag is kept in what is sent; only the base64 alphabet changes
    assert canonical_address("ton", TON_BOUNCEABLE.replace("-", "+")).address == TON_BOUNCEABLE
    x = canonical_address("xrp", XRP_MAX_TAG)
    assert (x.address, x.tag) == (XRP, 4294967295)
    assert canonical_address("xrp", XRP).tag is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (f"ETHEREUM,{ETH.lower()},", f"ETHEREUM,{ETH},"),
        (f"ETHEREUM,{ETH.lower()},", f"ETHEREUM,0x{ETH[2:].upper()},"),
        (f"BITCOIN,{BECH32},", f"BITCOIN,{BECH32.upper()},"),
        (f"TON,{TON_BOUNCEABLE},", f"TON,{TON_PLAIN},"),
        (f"TON,{TON_RAW},", f"TON,{TON_BOUNCEABLE.replace('-', '+')},"),
        (f"XRP,{XRP_TAG_13},", f"XRP,{XRP},13"),
        (f"XRP,{XRP},007", f"XRP,{XRP},7"),
        (f"XRP,{XRP_TAG_13},13", f"XRP,{XRP},0013"),
    ],
)
def test_one_recipient_written_two_ways_is_a_repeated_payment(
    tmp_path: Path, first: str, second: str
) -> None:
    currency = "USDT"
    text = HEADER + f"A,10,{currency},{first}\nB,10,{currency},{second}\n"
    result = _check(tmp_path, text)
    repeated = [p for p in result.problems if p.code == "payment.repeated"]
    assert [p.row for p in repeated] == [2, 3], result.problems
    assert "'B' (row 3)" in repeated[0].message
    assert result.rows == []


def test_a_text_memo_is_compared_as_text(tmp_path: Path) -> None:
    text = HEADER + f"A,10,USDT,TON,{TON_PLAIN},007\nB,10,USDT,TON,{TON_PLAIN},7\n"
    result = _check(tmp_path, text)
    assert result.ok and [r.memo for r in result.rows] == ["007", "7"]


def test_rows_carry_the_canonical_form(tmp_path: Path) -> None:
    text = HEADER + (
        f"A,10,USDT,ETHEREUM,{ETH.lower()},\n"
        f"B,1,XRP,XRP,{XRP_TAG_13},\n"
        f"C,2,XRP,XRP,{XRP},00042\n"
        f"D,3,BTC,BITCOIN,{BECH32.upper()},\n"
        f"E,4,TON,TON,{TON_RAW.replace('0:2c', '0:2C')},\n"
    )
    result = _check(tmp_path, text)
    assert result.ok, result.problems
    assert [(r.address, r.memo) for r in result.rows] == [
        (ETH, None),
        (XRP, "13"),
        (XRP, "42"),
        (BECH32, None),
        (TON_RAW, None),
    ]


@pytest.mark.parametrize(
    ("address", "memo", "code"),
    [
        (XRP, "4294967296", "memo.invalid"),
        (XRP, "99999999999", "memo.invalid"),
        (XRP, "-1", "memo.invalid"),
        (XRP_TAG_13, "14", "memo.conflict"),
        (XRP_MAX_TAG, "1", "memo.conflict"),
    ],
)
def test_tags_out_of_range_or_in_conflict_are_refused(
    tmp_path: Path, address: str, memo: str, code: str
) -> None:
    result = _check(tmp_path, HEADER + f"A,10,XRP,XRP,{address},{memo}\n")
    assert (2, code, "error") in _codes(result)
    assert result.rows == []


def test_the_largest_tag_is_paid(tmp_path: Path) -> None:
    result = _check(
        tmp_path, HEADER + f"A,10,XRP,XRP,{XRP},4294967295\nB,1,XRP,XRP,{XRP_MAX_TAG},\n"
    )
    assert [r.memo for r in result.rows] == ["4294967295", "4294967295"]


def test_the_report_and_the_request_use_the_canonical_form(
    workdir: Path, settings: Settings
) -> None:
    sheet = workdir / "s.csv"
    sheet.write_text(HEADER + f"A,10,USDT,ETHEREUM,{ETH.lower()},\n", encoding="utf-8")
    result = api.run(sheet, "sandbox", "b1", settings=settings)
    assert result.report is not None
    assert [r.address for r in result.report.rows] == [ETH]
    written = "".join(
        f.read_text(encoding="utf-8-sig") for f in result.report_files if f.suffix == ".csv"
    )
    assert ETH in written and ETH.lower() not in written


# -- header currency (4b) -------------------------------------------------------------------


def test_header_currency_and_currency_column_must_agree(tmp_path: Path) -> None:
    text = (
        "reference,Amount (USDT),currency,network,address\n"
        f"A,2500.00,BTC,TRON,{TRON[0]}\n"
        f"B,10,usdt,TRON,{TRON[1]}\n"
        f"C,11,,TRON,{TRON[2]}\n"
    )
    result = _check(tmp_path, text)
    conflict = [p for p in result.problems if p.code == "currency.conflict"]
    assert [(p.row, p.value) for p in conflict] == [(2, "BTC")]
    assert "USDT" in conflict[0].message
    assert [(r.reference, r.currency, r.amount) for r in result.rows] == [
        ("B", "USDT", Decimal("10")),
        ("C", "USDT", Decimal("11")),
    ]


def test_header_network_and_network_column_must_agree(tmp_path: Path) -> None:
    text = (
        "reference,Amount (USDT-TRC20),network,address\n"
        f"A,1,ETHEREUM,{ETH}\n"
        f"B,2,trc20,{TRON[1]}\n"
        f"C,3,,{TRON[2]}\n"
    )
    result = _check(tmp_path, text)
    assert [(p.row, p.code) for p in result.problems if p.severity == "error"] == [
        (2, "network.conflict")
    ]
    assert [(r.currency, r.network) for r in result.rows] == [("USDT", "TRON")] * 2


# -- a wrong address names the family it looks like (5d) -----------------------------------


def test_an_ethereum_address_in_a_tron_row_says_so(tmp_path: Path) -> None:
    result = _check(tmp_path, HEADER + f"A,10,USDT,TRON,{ETH},\n")
    (problem,) = [p for p in result.problems if p.code == "address.invalid"]
    assert "looks like an Ethereum-family (EVM) address" in problem.message
    assert "network column" in problem.message


@pytest.mark.parametrize(("family", "address"), ACCEPTED, ids=lambda x: str(x)[:24])
def test_every_family_pair_names_the_family_it_looks_like(family: str, address: str) -> None:
    for other in FAMILY_NAMES:
        if other == family or check_address(other, address).code != "address.invalid":
            continue
        assert FAMILY_NAMES[family] in looks_like(other, address), (other, address)


@pytest.mark.parametrize(
    "written",
    [
        f"bitcoin:{BECH32}",
        f"ethereum:{ETH}@1",
        f"ton://transfer/{TON_PLAIN}?text=hi",
        f"{XRP}?dt=13",
    ],
)
def test_a_payment_link_is_refused_with_the_fix(written: str) -> None:
    assert "payment link" in looks_like("tron", written)
