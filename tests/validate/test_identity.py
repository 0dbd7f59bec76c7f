"""Identity text (references, addresses, memos, codes) is read as a person sees it before any
key or comparison is made of it: invisible characters removed with a warning that names them,
bidi controls refused, NFKC, look-alike letters flagged (issue 11, 1d)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchpay import api
from batchpay.config import Settings
from batchpay.ingest import read_sheet
from batchpay.keys import row_key
from batchpay.problems import Problem
from batchpay.validate import Validated, validate_sheet
from batchpay.validate.identity import Cleaned, clean, look_alikes, shown, skeleton
from tests.conftest import TRON

HEADER = "reference,amount,currency,network,address,memo\n"
XRP = "rGWrZyQqhTp9Xu7G5Pkayo7bXjH4k4QYpf"


def _check(tmp_path: Path, text: str, provider: str = "sandbox") -> Validated:
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    return validate_sheet(read_sheet(path), provider)


def _only(result: Validated, code: str) -> Problem:
    (problem,) = [p for p in result.problems if p.code == code]
    return problem


def test_keys_of_ordinary_references_are_unchanged() -> None:
    # pinned before normalisation existed: ledgers written then must still match
    assert row_key("2026-11", "E-a001") == "5cb7a0ebf6f8bd49ec750aada6cf08bb"
    for reference in ("E-a001", "00042", "Sébastien-7", "Müller/2026", "李-3", "E a001"):
        assert clean(reference).text == reference and not clean(reference).findings


def test_a_trailing_zero_width_space_is_removed_and_named(tmp_path: Path) -> None:
    result = _check(tmp_path, HEADER + f"E-a001\u200b,10,USDT,TRON,{TRON[0]},\n")
    assert result.ok
    (row,) = result.rows
    assert row.reference == "E-a001"
    assert row_key("2026-11", row.reference) == row_key("2026-11", "E-a001")
    warning = _only(result, "text.invisible")
    assert (warning.row, warning.column, warning.severity) == (2, "reference", "warning")
    assert "U+200B ZERO WIDTH SPACE at position 7" in warning.message
    assert "'E-a001'" in warning.message and warning.value == "E-a001<U+200B>"


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("\ufeffE-a001", "U+FEFF ZERO WIDTH NO-BREAK SPACE at position 1"),
        ("E-\u00ada001", "U+00AD SOFT HYPHEN at position 3"),
        ("E-a\u2060001", "U+2060 WORD JOINER at position 4"),
        ("E-a0\u200d01", "U+200D ZERO WIDTH JOINER at position 5"),
        ("E-a001\u3164", "U+3164 HANGUL FILLER at position 7"),
        ("E-a001\ufe0f", "U+FE0F VARIATION SELECTOR-16 at position 7"),
        ("E-a001\U000e0041", "U+E0041 TAG LATIN CAPITAL LETTER A at position 7"),
    ],
)
def test_every_invisible_character_is_removed_and_named(typed: str, named: str) -> None:
    result = clean(typed)
    assert result.text == "E-a001" and not result.refused
    (finding,) = result.findings
    assert finding.code == "text.invisible" and named in finding.detail


@pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u2066", "\u2067", "\u200f", "\u061c"])
def test_bidi_controls_are_refused(tmp_path: Path, control: str) -> None:
    result = _check(tmp_path, HEADER + f"E-{control}a001,10,USDT,TRON,{TRON[0]},\n")
    assert not result.ok and result.rows == []
    problem = _only(result, "text.bidi_control")
    assert f"U+{ord(control):04X}" in problem.message and "position 3" in problem.message
    assert problem.value == f"E-<U+{ord(control):04X}>a001"  # the message cannot be reordered


def test_a_control_character_inside_identity_text_is_refused() -> None:
    assert clean("E-a\x0b001").refused
    assert "U+000B CONTROL CHARACTER at position 4" in clean("E-a\x0b001").findings[0].detail


def test_several_invisible_characters_make_one_message() -> None:
    (finding,) = clean("E-a001\u200b\u200b").findings
    assert finding.detail == (
        "has invisible characters U+200B ZERO WIDTH SPACE at position 7, U+200B ZERO WIDTH "
        "SPACE at position 8; removed, it is read as 'E-a001'"
    )


def test_full_width_text_is_read_in_normal_form_with_a_warning(tmp_path: Path) -> None:
    result = _check(tmp_path, HEADER + f"Ｅ－ａ００１,10,ＵＳＤＴ,ＴＲＯＮ,{TRON[0]},\n")
    assert result.ok
    (row,) = result.rows
    assert (row.reference, row.currency, row.network) == ("E-a001", "USDT", "TRON")
    assert {(p.column, p.code) for p in result.problems} == {
        ("reference", "text.compatibility"),
        ("currency", "text.compatibility"),
        ("network", "text.compatibility"),
    }


def test_a_compatibility_form_that_changes_the_meaning_is_refused(tmp_path: Path) -> None:
    # "12³" must not become tag 123
    result = _check(tmp_path, HEADER + f"X-1,10,XRP,XRP,{XRP},12\u00b3\n")
    problem = _only(result, "text.ambiguous")
    assert problem.column == "memo" and "U+00B3 SUPERSCRIPT THREE" in problem.message
    assert result.rows == []


def test_a_no_break_space_is_read_as_a_space_without_noise() -> None:
    assert clean("E\u00a0a001") == clean("E a001")


def test_invisible_characters_in_addresses_codes_and_memos(tmp_path: Path) -> None:
    text = HEADER + f"E-1,10,USDT\u200b,TRON\u00ad,{TRON[0][:5]}\u200b{TRON[0][5:]},\n"
    result = _check(tmp_path, text)
    assert result.ok
    (row,) = result.rows
    assert (row.currency, row.network, row.address) == ("USDT", "TRON", TRON[0])
    assert {p.column for p in result.problems if p.code == "text.invisible"} == {
        "currency",
        "network",
        "address",
    }


def test_header_with_an_invisible_character_is_still_recognised(tmp_path: Path) -> None:
    text = f"reference\u200b,Amount\ufeff (USDT),network,address\nE-1,10,TRON,{TRON[0]}\n"
    result = _check(tmp_path, text)
    assert result.ok and result.rows[0].currency == "USDT"


# -- look-alike letters -------------------------------------------------------------------


def test_a_cyrillic_letter_in_a_latin_reference_is_named() -> None:
    finding = look_alikes("E-\u0430001")  # Cyrillic а
    assert finding is not None and finding.code == "reference.mixed_script"
    assert "U+0430 CYRILLIC SMALL LETTER A" in finding.detail and "'E-a001'" in finding.detail
    assert skeleton("E-\u0430001") == "E-a001"


def test_a_reference_wholly_in_look_alike_letters_is_named() -> None:
    finding = look_alikes("\u0415-\u0430001")  # Cyrillic Е and а
    assert finding is not None and "U+0415 CYRILLIC CAPITAL LETTER IE" in finding.detail
    assert look_alikes("Иванов-1") is None  # ordinary Cyrillic: nothing to say
    assert look_alikes("Αθήνα") is None  # ordinary Greek
    assert look_alikes("E-a001") is None


def test_the_cyrillic_reference_alone_is_a_warning(tmp_path: Path) -> None:
    result = _check(tmp_path, HEADER + f"E-\u0430001,10,USDT,TRON,{TRON[0]},\n")
    assert result.ok and len(result.rows) == 1
    warning = _only(result, "reference.mixed_script")
    assert (warning.row, warning.severity) == (2, "warning")


def test_two_references_that_look_the_same_are_refused(tmp_path: Path) -> None:
    text = (
        HEADER + f"E-a001,10,USDT,TRON,{TRON[0]},\n"
        f"E-\u0430001,10,USDT,TRON,{TRON[1]},\n"
        f"\u0415-a001,12,USDT,TRON,{TRON[2]},\n"
    )
    result = _check(tmp_path, text)
    assert not result.ok and result.rows == []
    refused = [p for p in result.problems if p.code == "reference.look_alike"]
    assert [p.row for p in refused] == [2, 3, 4]
    assert "'E-\u0430001' on row 3" in refused[0].message


def test_a_reference_rerun_with_a_zero_width_space_is_not_paid_again(
    workdir: Path, settings: Settings
) -> None:
    sheet = workdir / "s.csv"
    sheet.write_text(HEADER + f"E-a001,10,USDT,TRON,{TRON[0]},\n", encoding="utf-8")
    first = api.run(sheet, "sandbox", "2026-11", settings=settings)
    assert first.exit_code == 0 and first.requests_sent == 1
    sheet.write_text(HEADER + f"E-a001\u200b,10,USDT,TRON,{TRON[0]},\n", encoding="utf-8")
    again = api.run(sheet, "sandbox", "2026-11", settings=settings)
    assert again.exit_code == 0 and again.requests_sent == 0
    assert again.report is not None
    assert [(r.reference, r.status) for r in again.report.rows] == [("E-a001", "completed")]
    assert "text.invisible" in {p.code for p in again.problems}


def test_shown_makes_invisible_characters_visible() -> None:
    assert shown("a\u200bb\u202ec") == "a<U+200B>b<U+202E>c"
    assert shown("plain") == "plain"


@given(st.text(max_size=40))
def test_cleaning_is_idempotent_and_leaves_printable_ascii_alone(text: str) -> None:
    once = clean(text.strip())
    if not once.refused:
        again = clean(once.text)
        assert again.text == once.text
        assert not [f for f in again.findings if f.code == "text.invisible"]
    plain = "".join(c for c in text if c.isascii() and c.isprintable()).strip()
    assert clean(plain) == Cleaned(plain)
