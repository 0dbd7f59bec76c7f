"""Sheets as they really arrive: encodings, locales, caps, repeats, control totals, presets,
column maps, a corpus of broken files, and the annotated copy."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchpay import api
from batchpay.config import Settings, load_settings
from batchpay.errors import SheetRejected, SheetUnreadable, UsageError
from batchpay.ingest import limits, read_sheet
from batchpay.money import NumberFormat, parse_amount
from batchpay.validate import SheetOptions, Validated, validate_sheet
from tests.conftest import ETH, TRON

HEADER = "reference,amount,currency,network,address\n"


def _check(
    tmp_path: Path, text: str | bytes, options: SheetOptions | None = None, name: str = "s.csv"
) -> Validated:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return validate_sheet(read_sheet(path), "sandbox", options=options)


def _codes(result: Validated) -> set[tuple[int | None, str, str]]:
    return {(p.row, p.code, str(p.severity)) for p in result.problems}


# -- encodings ----------------------------------------------------------------------------


def test_cp1252_is_read_with_a_warning(tmp_path: Path) -> None:
    text = (
        f"reference,name,amount,currency,network,address\nE-1,Zoë Müller,10,USDT,TRON,{TRON[0]}\n"
    )
    result = _check(tmp_path, text.encode("cp1252"))
    assert _codes(result) == {(None, "sheet.encoding", "warning")}
    assert result.rows[0].name == "Zoë Müller"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-8-sig"])
def test_unicode_encodings_with_and_without_bom(tmp_path: Path, encoding: str) -> None:
    text = HEADER + f"Ä-1,10,USDT,TRON,{TRON[0]}\n"
    result = _check(tmp_path, text.encode(encoding))
    assert result.ok and result.rows[0].reference == "Ä-1" and result.problems == []


# -- amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "text", "expected"),
    [
        ("de_DE", "1.234,50", "1234.50"),
        ("de_DE", "12,5", "12.5"),
        ("en_US", "1,234.50", "1234.50"),
        ("fr_FR", "1 234,50", "1234.50"),
        ("fr_FR", "1\u202f234,50", "1234.50"),
        ("de_CH", "1'234.50", "1234.50"),
    ],
)
def test_declared_locales(tmp_path: Path, locale: str, text: str, expected: str) -> None:
    result = _check(
        tmp_path, HEADER + f'E-1,"{text}",USDT,TRON,{TRON[0]}\n', SheetOptions(locale=locale)
    )
    assert result.ok, result.problems
    assert result.rows[0].amount_requested == Decimal(expected)


def test_without_a_locale_a_comma_is_never_guessed(tmp_path: Path) -> None:
    result = _check(tmp_path, HEADER + f'E-1,"1,234.50",USDT,TRON,{TRON[0]}\n')
    assert _codes(result) == {(2, "amount.ambiguous_separator", "error")}
    wrong = _check(
        tmp_path, HEADER + f'E-1,"1,234.50",USDT,TRON,{TRON[0]}\n', SheetOptions(locale="de_DE")
    )
    assert _codes(wrong) == {(2, "amount.locale_format", "error")}
    with pytest.raises(UsageError, match="unknown locale"):
        _check(tmp_path, HEADER + f"E-1,1,USDT,TRON,{TRON[0]}\n", SheetOptions(locale="xx_YY"))


@given(
    st.decimals(
        min_value=Decimal("0.01"),
        max_value=Decimal("999999999"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_locale_grammar_round_trips(value: Decimal) -> None:
    de = NumberFormat("de_DE", (".",), ",")
    integer, fraction = f"{value:.2f}".split(".")
    groups = f"{int(integer):,}".replace(",", ".")
    assert parse_amount(f"{groups},{fraction}", de) == value


def test_per_currency_cap(tmp_path: Path) -> None:
    text = HEADER + f"A,50000.01,USDT,TRON,{TRON[0]}\nB,50000,USDT,TRON,{TRON[1]}\n"
    result = _check(tmp_path, text, SheetOptions(max_amounts={"USDT": Decimal("50000")}))
    assert _codes(result) == {(2, "amount.over_cap", "error")}
    assert [r.reference for r in result.rows] == ["B"]


# -- repeats and control totals -----------------------------------------------------------


def test_the_same_payment_twice_needs_acknowledging(tmp_path: Path) -> None:
    text = (
        HEADER + f"A,10,USDT,TRON,{TRON[0]}\nB,10.00,USDT,TRON,{TRON[0]}\n"
        f"C,10,USDT,TRON,{TRON[1]}\n"
    )
    blocked = _check(tmp_path, text)
    assert _codes(blocked) == {(2, "payment.repeated", "error"), (3, "payment.repeated", "error")}
    allowed = _check(tmp_path, text, SheetOptions(allow_duplicates=True))
    assert _codes(allowed) == {
        (2, "payment.repeated", "warning"),
        (3, "payment.repeated", "warning"),
    }
    assert len(allowed.rows) == 3


def test_a_reference_paid_recently_in_another_batch(workdir: Path, settings: Settings) -> None:
    sheet = workdir / "s.csv"
    sheet.write_text(HEADER + f"E-1,10,USDT,TRON,{TRON[0]}\n")
    assert api.run(sheet, "sandbox", "2026-11", settings=settings).exit_code == 0
    with pytest.raises(SheetRejected) as refused:
        api.run(sheet, "sandbox", "2026-11-again", settings=settings)
    assert [p.code for p in refused.value.problems] == ["payment.paid_recently"]
    again = api.run(
        sheet,
        "sandbox",
        "2026-11-again",
        settings=settings,
        options=SheetOptions(allow_duplicates=True),
    )
    assert again.exit_code == 0 and [p.code for p in again.problems] == ["payment.paid_recently"]


def test_control_totals_and_row_count(tmp_path: Path) -> None:
    text = HEADER + f"A,10.50,USDT,TRON,{TRON[0]}\nB,4.5,USDT,TRON,{TRON[1]}\n"
    good = _check(
        tmp_path, text, SheetOptions(expect_totals={"USDT": Decimal("15")}, expect_rows=2)
    )
    assert good.ok and good.problems == []
    bad = _check(
        tmp_path,
        text,
        SheetOptions(expect_totals={"USDT": Decimal("15.01"), "BTC": Decimal("1")}, expect_rows=3),
    )
    assert {p.code for p in bad.problems} == {"control.total", "control.row_count"}
    assert len([p for p in bad.problems if p.code == "control.total"]) == 2


# -- headers: presets and the user's own names --------------------------------------------


def test_coinspaid_layout_with_one_flag(tmp_path: Path) -> None:
    text = (
        "Address,Tag,Currency,Amount,Note\n"
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq,,BTC,0.0025,Salary for Alice\n"
        "r9NEXKYNyfxhzw7VzJp9et8t3onbam98G,2422386,XRP,400,Salary for Charlie\n"
        f"{TRON[0]},,USDTT,120.20,Salary for Bob\n"
    )
    result = _check(tmp_path, text, SheetOptions(preset="coinspaid"))
    assert result.ok, result.problems
    assert [(r.reference, r.currency, r.network, r.memo) for r in result.rows] == [
        ("row-2", "BTC", "BITCOIN", None),
        ("row-3", "XRP", "XRP", "2422386"),
        ("row-4", "USDT", "TRON", None),
    ]
    assert {p.code for p in result.problems} == {"preset.row_references"}


def test_inqud_layout_with_one_flag(tmp_path: Path) -> None:
    text = (
        "cryptoAddress,cryptoCurrency,amount,clientOrderId,comment\n"
        "TFjyAJ2z93cKjHWbKj57ECQm7aHAdJ3ut9,TRON_USDT,21.501,someunique1,salary John\n"
    )
    result = _check(tmp_path, text, SheetOptions(preset="inqud"))
    assert result.ok and result.problems == []
    (row,) = result.rows
    assert (row.reference, row.currency, row.network, row.amount, row.description) == (
        "someunique1",
        "USDT",
        "TRON",
        Decimal("21.501"),
        "salary John",
    )


def test_safe_airdrop_layout_with_one_flag(tmp_path: Path) -> None:
    text = (
        "token_type,token_address,receiver,amount,id\n"
        f"erc20,0x6b175474e89094c44da98b954eedeac495271d0f,{ETH},0.0001,\n"
        f"native,,{ETH},0.5,\n"
        f"nft,0x57f1887a8bf19b14fc0df6fd9b2acc9af147ea85,{ETH},,42\n"
    )
    result = _check(tmp_path, text, SheetOptions(preset="safe"))
    assert [(r.currency, r.network) for r in result.rows] == [
        ("DAI", "ETHEREUM"),
        ("ETH", "ETHEREUM"),
    ]
    assert (4, "preset.nft", "error") in _codes(result)


def test_a_users_own_header_names(tmp_path: Path) -> None:
    mapping = tmp_path / "columns.toml"
    mapping.write_text('"Staff no" = "reference"\n"Pay (net)" = "amount"\n')
    from batchpay.validate.presets import read_column_map

    text = f"Staff no,Pay (net),currency,network,address\nS-7,10,USDT,TRON,{TRON[0]}\n"
    result = _check(tmp_path, text, SheetOptions(column_map=read_column_map(mapping)))
    assert result.ok and result.rows[0].reference == "S-7"


# -- broken files -------------------------------------------------------------------------


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_corpus_of_broken_files(tmp_path: Path) -> None:
    whole = _xlsx([["reference", "amount"], ["A", 1]])
    cases: dict[str, bytes] = {
        "truncated.xlsx": whole[: len(whole) // 2],
        "not-a-zip.xlsx": b"this is not a workbook",
        "png.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "empty.csv": b"",
        "blank.xlsx": _xlsx([]),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(SheetUnreadable):
            read_sheet(path)


def test_header_only_is_an_error(tmp_path: Path) -> None:
    result = _check(tmp_path, HEADER)
    assert _codes(result) == {(1, "sheet.no_rows", "error")}


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (50 * 1024 * 1024) + b"/>")
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(SheetUnreadable, match="zip bomb"):
        read_sheet(path)


def test_row_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ROWS", 3)
    path = tmp_path / "big.xlsx"
    path.write_bytes(_xlsx([["reference", "amount"], *[[f"R{i}", 1] for i in range(5)]]))
    with pytest.raises(SheetUnreadable, match="more than 3 rows"):
        read_sheet(path)


def test_formula_without_a_saved_value_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    path.write_bytes(
        _xlsx(
            [
                ["reference", "amount", "currency", "network", "address"],
                ["A", "=2*5", "USDT", "TRON", TRON[0]],
                ["B", 10, "USDT", "TRON", TRON[1]],
            ]
        )
    )
    result = validate_sheet(read_sheet(path), "sandbox")
    (problem,) = [p for p in result.problems if p.code == "cell.formula_without_value"]
    assert (problem.row, problem.column) == (2, "amount") and "B2" in problem.message
    assert [r.reference for r in result.rows] == ["B"]


def test_wrong_types_in_cells(tmp_path: Path) -> None:
    path = tmp_path / "types.xlsx"
    import datetime as dt

    path.write_bytes(
        _xlsx(
            [
                ["reference", "amount", "currency", "network", "address"],
                ["A", dt.date(2026, 11, 1), "USDT", "TRON", TRON[0]],
                ["B", True, "USDT", "TRON", TRON[1]],
            ]
        )
    )
    result = validate_sheet(read_sheet(path), "sandbox")
    assert {(p.row, p.column) for p in result.problems} == {(2, "amount"), (3, "amount")}


# -- the annotated copy -------------------------------------------------------------------


def test_annotated_copy_marks_each_problem_on_its_cell(workdir: Path) -> None:
    sheet = workdir / "payroll.csv"
    sheet.write_text(
        "Payroll November\n" + "reference,name,amount,currency,network,address\n"
        f"A,Ann,1E+05,USDT,TRON,{TRON[0]}\n"
        f"B,Bob,10,USDT,TRON,0xnot-an-address\n"
        f"C,Cy,10,USDT,TRON,{TRON[1]}\n"
    )
    out = workdir / "payroll.checked.xlsx"
    result = api.validate(
        sheet, "sandbox", settings=load_settings(environ={}, cwd=workdir), annotate=out
    )
    assert result.annotated == out and not result.ok
    ws = openpyxl.load_workbook(out).active
    assert ws["A2"].value == "reference" and ws["C3"].value == "1E+05"
    assert "amount.exponent" in ws["C3"].comment.text
    assert "address.invalid" in ws["F4"].comment.text
    assert ws["C5"].comment is None and ws["F5"].comment is None
    assert ws["C3"].fill.fgColor.rgb.endswith("F8CBAD")


def test_a_memo_on_a_network_without_memos_is_refused(tmp_path: Path) -> None:
    text = (
        "reference,amount,currency,network,address,memo\n"
        f"A,1,USDT,TRON,{TRON[0]},12345\n"
        "B,1,XRP,XRP,rG1QQv2nh2gr7RCZ1P8YYcBUKCCN633jCn,12345\n"
        "C,1,TON,TON,EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB,invoice 7\n"
    )
    result = _check(tmp_path, text)
    assert _codes(result) == {(2, "memo.not_supported", "error")}
    assert [r.memo for r in result.rows] == ["12345", "invoice 7"]


def test_a_control_character_beside_a_problem_keeps_the_annotated_copy(workdir: Path) -> None:
    sheet = workdir / "payroll.csv"
    sheet.write_text(
        "reference,name,amount,currency,network,address,description\n"
        f"A,Ann\x0bLee,1E+05,USDT,TRON,{TRON[0]},bonus\x01\x1f\n"
        f"B,Bob,10,USDT,TRON,{TRON[1]},{'y' * 40_000}\n"
    )
    out = workdir / "payroll.checked.xlsx"
    result = api.validate(
        sheet, "sandbox", settings=load_settings(environ={}, cwd=workdir), annotate=out
    )
    assert result.annotated == out
    assert {(p.row, p.code) for p in result.problems} >= {(2, "amount.exponent")}
    ws = openpyxl.load_workbook(out).active
    assert ws["B2"].value == "Ann\\x0bLee" and ws["G2"].value == "bonus\\x01\\x1f"
    assert "amount.exponent" in ws["C2"].comment.text
    assert len(ws["G3"].value) <= 32_767 and ws["G3"].value.endswith(
        "(40000 characters in the sheet)"
    )


def test_an_amount_with_61_digits_is_a_row_problem_not_a_crash(workdir: Path) -> None:
    sheet = workdir / "digits.csv"
    sheet.write_text(
        HEADER + f"A,{'1' * 61},USDT,TRON,{TRON[0]}\nB,{'2' * 30}.{'2' * 31},USDT,TRON,{TRON[1]}\n"
        f"C,10,USDT,TRON,{TRON[2]}\n"
    )
    options = SheetOptions(expect_totals={"USDT": Decimal("10")})
    result = validate_sheet(read_sheet(sheet), "sandbox", options=options)
    assert _codes(result) == {
        (2, "amount.too_many_digits", "error"),
        (3, "amount.too_many_digits", "error"),
    }
    assert [r.reference for r in result.rows] == ["C"]
    checked = api.validate(sheet, "sandbox", settings=load_settings(environ={}, cwd=workdir))
    assert not checked.ok and checked.totals["USDT"]["requested"] == "10"
