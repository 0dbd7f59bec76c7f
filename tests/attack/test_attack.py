"""Hostile inputs found after the fixes for issues 11 and 12: each asserts the right value."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import httpx
import openpyxl
import pytest

from batchpay import api
from batchpay.config import Settings, load_settings
from batchpay.emulator import Emulator
from batchpay.errors import SheetRejected, SheetUnreadable
from batchpay.ingest import read_sheet
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from batchpay.plan import preflight
from batchpay.plan.preflight import Recent, identity
from batchpay.providers import open_provider
from batchpay.providers.base import PayoutRequest
from batchpay.providers.tagged import tag_in, tagged_description
from tests.conftest import HEADER, TRON, FixedClock


def _csv(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_an_amount_rounding_to_zero_is_refused_by_validate(
    workdir: Path, settings: Settings
) -> None:
    sheet = _csv(
        workdir / "tiny.csv",
        [f"E-1,A,0.0000001,USDT,TRON,{TRON[0]},,x", f"E-2,B,5,USDT,TRON,{TRON[1]},,x"],
    )
    result = api.validate(sheet, settings=settings)
    codes = [(p.row, p.code) for p in result.problems]
    assert codes == [(2, "amount.not_positive")]
    assert result.rows == 1


BTC = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
TON_EQ = "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB"
TON_UQ = "UQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi41-E"  # the same account, not bounceable
TON_RAW = "0:2CF55953E92EFBEADAB7BA725C3F93A0B23F842CBBA72D7B8E6F510A70E422E3"


@pytest.mark.parametrize("other", [TON_UQ, TON_RAW])
def test_a_ton_account_in_another_form_is_paid_recently_in_another_batch(
    workdir: Path, settings: Settings, clock: FixedClock, other: str
) -> None:
    first = _csv(workdir / "a.csv", [f"E-1,Ada,10,TON,TON,{TON_EQ},m1,x"])
    api.run(first, "sandbox", "nov-a", settings=settings)
    second = _csv(workdir / "b.csv", [f"E-9,Ada,10,TON,TON,{other},m1,x"])
    for dry_run in (True, False):
        with pytest.raises(SheetRejected) as caught:
            api.run(second, "sandbox", "nov-b", settings=settings, dry_run=dry_run)
        assert [p.code for p in caught.value.problems] == ["payment.paid_recently"]


def test_a_ton_account_in_another_form_repeats_a_payment_of_the_same_batch(
    workdir: Path, settings: Settings
) -> None:
    api.run(
        _csv(workdir / "a.csv", [f"E-1,Ada,10,TON,TON,{TON_EQ},m1,x"]),
        "sandbox",
        "nov",
        settings=settings,
    )
    again = _csv(workdir / "b.csv", [f"E-1b,Ada,10,TON,TON,{TON_RAW},m1,x"])
    with pytest.raises(SheetRejected) as caught:
        api.run(again, "sandbox", "nov", settings=settings)
    assert [(p.row, p.code) for p in caught.value.problems] == [(2, "payment.repeated")]


_INLINE = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*) t="inlineStr"><is><t>([^<]*)</t></is></c>')
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _excel_saved(path: Path, rows: list[list[object]], rich: dict[str, str] | None = None) -> Path:
    """A workbook as Excel saves it: every text in the shared-string table (openpyxl writes
    inline strings); ``rich`` gives some cells' <si> markup (runs, phonetic guides)."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {n: source.read(n).decode() for n in source.namelist()}
    strings: list[str] = []

    def share(found: re.Match[str]) -> str:
        ref, attrs, text = found.groups()
        strings.append((rich or {}).get(ref, f"<t>{text}</t>"))
        return f'<c r="{ref}"{attrs} t="s"><v>{len(strings) - 1}</v></c>'

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = _INLINE.sub(share, parts[sheet])
    items = "".join(f"<si>{s}</si>" for s in strings)
    parts["xl/sharedStrings.xml"] = (
        '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        f'main" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        "</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/></Types>',
    )
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(
        "</Relationships>",
        f'<Relationship Id="rIdS" Type="{_SST_REL}" Target="sharedStrings.xml"/></Relationships>',
    )
    with zipfile.ZipFile(path, "w") as target:
        for name, text in parts.items():
            target.writestr(name, text)
    return path


def test_a_workbook_saved_by_excel_with_shared_strings_is_read(
    workdir: Path, settings: Settings
) -> None:
    header: list[object] = list(HEADER.split(","))
    rows: list[list[object]] = [
        header,
        ["E-1", "Ada", 2500, "USDT", "TRON", TRON[0], None, "pay"],
        ["E-2", "Alan", 10.5, "USDT", "TRON", TRON[1], None, "pay"],
    ]
    rich = {"A3": '<r><t>E-</t></r><r><rPr><b/></rPr><t>7</t></r><rPh sb="0" eb="1"><t>X</t></rPh>'}
    sheet = _excel_saved(workdir / "excel.xlsx", rows, rich)
    result = api.validate(sheet, settings=settings)
    assert result.problems == []
    assert result.rows == 2
    assert result.totals["USDT"]["requested"] == "2510.5"
    loaded = read_sheet(sheet, None)
    assert loaded.frame.loc[3].tolist()[:2] == ["E-7", "Alan"]


@pytest.mark.parametrize(
    ("code", "shown"), [(";;;", "nothing"), ('0;0;0;"ID-"@', "'ID-E-2'"), ('"x"@', "'xE-2'")]
)
def test_a_text_cell_whose_format_hides_or_changes_it_is_refused(
    workdir: Path, settings: Settings, code: str, shown: str
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["E-1", "Ada", 10, "USDT", "TRON", TRON[0], None, "pay"])
    sheet.append(["E-2", "Alan", "20", "USDT", "TRON", TRON[1], None, "pay"])
    sheet["A3"].number_format = code  # the reference the person sees is not the one paid
    sheet["C3"].number_format = ";;;"  # an amount typed as text, shown as nothing
    workbook.save(workdir / "hidden.xlsx")
    result = api.validate(workdir / "hidden.xlsx", settings=settings)
    found = {(p.row, p.code, p.message.split(" but")[0]) for p in result.problems}
    assert found == {
        (3, "cell.shown_differs", f"cell A3 shows {shown}"),
        (3, "cell.shown_differs", "cell C3 shows nothing"),
    }
    assert result.rows == 1


def test_rows_hidden_by_the_sheets_zero_default_height_are_warned(
    workdir: Path, settings: Settings
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["E-1", "Ada", 10, "USDT", "TRON", TRON[0], None, "pay"])
    sheet.append(["E-2", "Alan", 20, "USDT", "TRON", TRON[1], None, "pay"])
    sheet.row_dimensions[1].height = 15  # only the header keeps a height of its own
    sheet.sheet_format.zeroHeight = True  # every other row is zero high: Excel hides it
    workbook.save(workdir / "zero.xlsx")
    result = api.validate(workdir / "zero.xlsx", settings=settings)
    hidden = [p for p in result.problems if p.code == "sheet.hidden_rows"]
    assert [(p.row, p.severity.value) for p in hidden] == [(2, "warning")]
    assert "rows 2, 3 are hidden" in hidden[0].message


def test_a_number_shown_with_leading_zeros_is_read_with_them(
    workdir: Path, settings: Settings
) -> None:
    """A TON memo typed as 1234 and shown as 001234 (format 000000) is the memo 001234: an
    exchange crediting by memo would not find 1234."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["E-1", "Ada", 10, "TON", "TON", TON_EQ, 1234, "pay"])
    sheet["G2"].number_format = "000000"
    sheet["C2"].number_format = "00"  # an amount shown as 10: the same number
    workbook.save(workdir / "memo.xlsx")
    loaded = read_sheet(workdir / "memo.xlsx", None)
    assert loaded.frame.loc[2].tolist()[2:7:4] == ["10", "001234"]
    result = api.run(workdir / "memo.xlsx", "sandbox", "nov", settings=settings)
    assert [p.code for p in result.problems] == []
    with Ledger(settings.ledger) as ledger:
        assert [r.memo for r in ledger.rows("nov", [RowStatus.COMPLETED])] == ["001234"]


def test_the_first_sheet_is_not_paid_when_the_workbook_opens_on_another(
    workdir: Path, settings: Settings
) -> None:
    workbook = openpyxl.Workbook()
    draft = workbook.active
    draft.title = "Draft"
    final = workbook.create_sheet("Final")
    for sheet, amount in ((draft, 999), (final, 10)):
        sheet.append(HEADER.split(","))
        sheet.append(["E-1", "Ada", amount, "USDT", "TRON", TRON[0], None, "pay"])
    workbook.active = 1  # saved while the person looked at "Final"
    workbook.save(workdir / "two.xlsx")
    with pytest.raises(SheetUnreadable, match=r"opens on sheet 'Final'.*--sheet"):
        api.validate(workdir / "two.xlsx", settings=settings)
    named = api.validate(workdir / "two.xlsx", settings=settings, sheet_name="Final")
    assert named.totals["USDT"]["requested"] == "10"


def test_a_failed_row_claimed_by_another_batch_during_retry_is_not_paid_twice(
    workdir: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """retry checks "claimed by another batch" and then marks its rows sending; a run of
    another batch claiming the row between the two used to pass its check too (the row was
    still failed), so both paid. The gate: the other batch runs right after retry's check."""
    line = f"E-1,Ada,10,USDT,TRON,{TRON[0]},,pay"
    api.run(_csv(workdir / "a.csv", [line]), "sandbox", "nov-a", settings=settings)
    with sqlite3.connect(str(settings.ledger)) as db:  # the provider rejected it after all
        db.execute("UPDATE payouts SET status = 'failed' WHERE batch_id = 'nov-a'")
    other = _csv(workdir / "b.csv", [line])
    check = preflight.claimed_since
    claimed: list[int] = []

    def check_then_other_batch_runs(
        rows: Iterable[preflight.SavedRow], recent: Iterable[Recent]
    ) -> dict[str, str]:
        found = check(rows, recent)
        if not claimed:  # right after retry's first check, before it marks its rows sending
            claimed.append(api.run(other, "sandbox", "nov-b", settings=settings).requests_sent)
        return found

    monkeypatch.setattr(preflight, "claimed_since", check_then_other_batch_runs)
    retried = api.retry("nov-a", settings=settings)
    assert claimed == [1]  # the other batch sent its payout
    assert retried.requests_sent == 0  # and retry sent none
    with Ledger(settings.ledger) as ledger:
        [row] = ledger.rows("nov-a", [RowStatus.NEEDS_REVIEW])
        assert row.error_code == "paid_elsewhere"


def test_an_excel_error_in_a_reference_or_memo_is_refused(
    workdir: Path, settings: Settings
) -> None:
    """A VLOOKUP that found nothing leaves #N/A: as a TON memo it would be sent, and the
    exchange crediting by memo would never find the recipient."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["#REF!", "Ada", 10, "USDT", "TRON", TRON[0], None, "pay"])
    sheet.append(["E-2", "Alan", 20, "TON", "TON", TON_EQ, "#N/A", "pay"])
    sheet.append(["E-3", "Grace", 30, "TON", "TON", TON_EQ, "m-3", "pay"])
    assert sheet["G3"].data_type == "e"  # saved as an error cell, as Excel does
    workbook.save(workdir / "errors.xlsx")
    result = api.validate(workdir / "errors.xlsx", settings=settings)
    assert [(p.row, p.code) for p in result.problems] == [
        (2, "reference.excel_error"),
        (3, "memo.excel_error"),
    ]
    assert result.rows == 1


def test_a_tag_copied_into_the_description_is_not_read_as_ours() -> None:
    """A description copied from last month's provider export carries last month's tag;
    the payout must still be known by its own."""
    old = "bp-" + "0" * 24
    request = PayoutRequest(
        row_key="k",
        attempt=1,
        key="bp-" + "a" * 24,
        reference="E-1",
        amount=Decimal(10),
        currency="USDT",
        description=f"November salary [{old}]",
    )
    sent = tagged_description(request, 100)
    assert sent == f"November salary [{request.key}]"
    assert tag_in(sent) == request.key
    assert tag_in(f"salary [{old}] [{request.key}]") == request.key


def test_the_annotated_copy_holds_the_sheets_text_exactly(
    workdir: Path, settings: Settings
) -> None:
    """The copy is fixed in Excel and uploaded again: a memo "-123" must not come back as
    "'-123", and "=1+1" must stay text, never a formula."""
    sheet = _csv(
        workdir / "s.csv",
        [
            f"E-1,=1+1,10,TON,TON,{TON_EQ},-123,@home",
            f"E-2,Alan,-5,USDT,TRON,{TRON[1]},,pay",  # an error, so the copy is written
        ],
    )
    copy = workdir / "checked.xlsx"
    api.validate(sheet, settings=settings, annotate=copy)
    cells = openpyxl.load_workbook(copy).active
    assert [(c.value, c.data_type) for c in cells[2][1:8:5]] == [("=1+1", "s"), ("-123", "s")]
    assert cells["H2"].value == "@home"
    again = read_sheet(copy, None)
    assert again.frame.loc[2].tolist()[6] == "-123"


FIAT = (
    "reference,amount,currency,country_code,payout_currency,payment_method,recipient_name,"
    "recipient.account_number,recipient.ifsc,purpose_of_payment"
)


def test_one_bank_account_written_two_ways_is_one_recipient(
    workdir: Path, settings: Settings
) -> None:
    """Spaces and case in bank details, and the purpose of payment, do not make another
    recipient: three payments of 100 to account 001234567890 are repeats."""
    sheet = _csv(
        workdir / "fiat.csv",
        [
            "P-1,100.00,USDT,IN,INR,imps,Ada L,001234567890,HDFC0000001,salary",
            "P-2,100.00,USDT,IN,INR,imps,Ada L,001234567890,HDFC0000001,salary nov",
            "P-3,100.00,USDT,IN,INR,imps,ADA  L,0012 3456 7890,hdfc0000001,salary",
            "P-4,100.00,USDT,IN,INR,imps,Alan T,009999999999,HDFC0000001,salary",
        ],
        header=FIAT,
    )
    result = api.validate(sheet, "pontis", settings=settings)
    assert [(p.row, p.code) for p in result.problems] == [
        (2, "payment.repeated"),
        (3, "payment.repeated"),
        (4, "payment.repeated"),
    ]
    earlier = {
        "recipient.account_number": "001234567890",
        "recipient_name": "Ada L",
        "payment_method": "imps",
        "purpose_of_payment": "October",
    }
    now = {
        "recipient.account_number": "0012 3456 7890",
        "recipient_name": "Ada Lovelace",
        "payment_method": "IMPS",
    }
    assert identity("USDT", None, None, None, Decimal(100), earlier) == identity(
        "USDT", None, None, None, Decimal("100.00"), now
    )  # what paid_recently and repeated_in_batch compare with the ledger's rows


@pytest.mark.parametrize(
    "code", ["0.00;-0.00;0;General", '_(* #,##0.00_);_(* (#,##0.00);_(* "-"??_);_(@_)', "@"]
)
def test_a_text_cell_under_a_format_that_shows_text_as_it_is_is_read(
    workdir: Path, settings: Settings, code: str
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["E-1", "Ada", 10, "USDT", "TRON", TRON[0], None, "pay"])
    sheet["A2"].number_format = code
    workbook.save(workdir / "shown.xlsx")
    result = api.validate(workdir / "shown.xlsx", settings=settings)
    assert result.problems == [] and result.rows == 1


def test_the_oxapay_history_search_writes_the_amount_plainly() -> None:
    """0.0000001 BTC at 8 decimals is Decimal("1.0E-7"): the history filter must say
    0.00000010, or a provider reading it another way answers "not found"."""
    asked: list[httpx.QueryParams] = []

    def history(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params)
        meta = {"page": 1, "last_page": 1, "total": 0}
        return httpx.Response(200, json={"data": {"list": [], "meta": meta}, "status": 200})

    settings = load_settings({}, environ=Emulator().env())
    provider = open_provider("oxapay", settings, transport=httpx.MockTransport(history))
    amount = Decimal("0.0000001").quantize(Decimal("1E-8"))
    request = PayoutRequest("k", 1, "bp-" + "a" * 24, "E-1", amount, "BTC", "BITCOIN", BTC)
    try:
        assert provider.lookup(request, None) is None
    finally:
        provider.close()
    assert [(q["from_amount"], q["to_amount"]) for q in asked] == [("0.00000010", "0.00000010")]


def test_a_memo_with_leading_zeros_is_refused_where_it_is_sent_as_a_number(
    workdir: Path, settings: Settings
) -> None:
    """TheDex's memo is an integer: a TON comment 001234 would arrive as 1234, which the
    exchange crediting by memo does not know. An XRP tag 007 is the number 7 anyway."""
    sheet = _csv(
        workdir / "memo.csv",
        [
            f"E-1,Ada,10,TON,TON,{TON_EQ},001234,x",
            f"E-2,Alan,11,TON,TON,{TON_EQ},1234,x",
            "E-3,Grace,12,XRP,XRP,rG1QQv2nh2gr7RCZ1P8YYcBUKCCN633jCn,007,x",
        ],
    )
    result = api.validate(sheet, "thedex", settings=settings)
    assert [(p.row, p.code) for p in result.problems] == [(2, "provider.cannot_pay")]
    assert "would arrive as 1234" in result.problems[0].message


def test_a_memo_is_sent_on_a_network_mapped_in_the_config(workdir: Path) -> None:
    """2328.io's table sends a memo on TON and Solana; with XRP mapped in batchpay.toml the
    XRP destination tag used to be dropped from the request without a word."""
    settings = load_settings({"networks": {"2328io": {"XRP": "XRP"}}}, environ=Emulator().env())
    provider = open_provider("2328io", settings)
    try:
        request = PayoutRequest(
            "k",
            1,
            "key",
            "E-1",
            Decimal(10),
            "XRP",
            "XRP",
            "rG1QQv2nh2gr7RCZ1P8YYcBUKCCN633jCn",
            memo="7",
        )
        payload = provider.payload(request)  # type: ignore[attr-defined]
    finally:
        provider.close()
    assert (payload["network"], payload["memo"]) == ("XRP", "7")
