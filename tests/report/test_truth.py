"""The report tells the operator the truth (issue 12, items 1a, 1e, 5b, 5c): every row that is
not completed is listed under its state, "all paid" only when all rows completed, "Last run"
follows every command, CSV files open right in Excel, and the memo sent is shown."""

from __future__ import annotations

import csv
import datetime as dt
import io
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

import openpyxl
import pytest

from batchpay import api
from batchpay.config import load_settings
from batchpay.emulator import Emulator
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from batchpay.plan import make_plan
from batchpay.providers.sandbox import SandboxBank, SandboxProvider
from batchpay.report import build_report, render_html, write_report
from batchpay.report.model import ATTENTION, Report
from batchpay.send import Engine, RetryPolicy
from tests.conftest import FixedClock
from tests.report.test_report import _row

ALL_PAID = "every row was paid"
NOT_COMPLETED = [s for s in RowStatus if s is not RowStatus.COMPLETED]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unsent_rows_are_listed_and_never_called_paid(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    """The issue's repro: five rows to 2328.io at a port where nothing listens."""
    environ = Emulator().env() | {
        "BATCHPAY_2328IO_BASE_URL": f"http://127.0.0.1:{_closed_port()}/api"
    }
    settings = load_settings(
        {"ledger": workdir / "ledger.sqlite", "report_dir": workdir / "reports"},
        environ=environ,
        cwd=workdir,
    )
    sheet = write_sheet([(f"E-{i}", f"1{i}.00") for i in range(1, 6)])
    result = api.run(sheet, "2328io", "b", settings=settings)
    assert result.summary is not None and result.summary.counts["planned"] == 5
    folder = result.report_files[0].parent
    html = (folder / "reconciliation.html").read_text(encoding="utf-8")
    assert ALL_PAID not in html
    assert "Not sent (planned) (5)" in html
    for i in range(1, 6):
        assert f"<td>E-{i}</td>" in html.split("<h2>All rows")[0]  # in the exceptions
    summary = openpyxl.load_workbook(folder / "reconciliation.xlsx")["Summary"]
    lines = [str(c.value) for row in summary.iter_rows() for c in row if c.value]
    assert "Not completed: Not sent (planned): 5" in lines


def _ledger_with(tmp_path: Path, statuses: Sequence[RowStatus]) -> Ledger:
    """One completed row per status given, then moved to that status in the ledger."""
    ledger = Ledger(tmp_path / "l.sqlite", clock=FixedClock())
    rows = [_row(n + 2, f"E-{n}", "10.00", "10.00") for n in range(len(statuses))]
    ledger.save_plan(
        make_plan("b", "sandbox", "s.csv", "", rows),
        sandbox=True,
        rounding="down",
        fee_option="deduct",
    )
    _engine(ledger).send_planned()
    for row, status in zip(ledger.rows("b"), statuses, strict=True):
        ledger._db.execute(
            "UPDATE payouts SET status = ? WHERE row_key = ?", (str(status), row.row_key)
        )
    return ledger


def _engine(ledger: Ledger, bank: SandboxBank | None = None) -> Engine:
    return Engine(
        ledger=ledger,
        provider=SandboxProvider(bank or SandboxBank()),
        batch="b",
        concurrency=1,
        retry=RetryPolicy(max_tries=1),
        sleep=lambda s: None,
    )


def _exceptions_html(report: Report) -> str:
    html = render_html(report)
    return html[html.index("<h2>Exceptions") : html.index("<h2>All rows")]


@pytest.mark.parametrize("status", NOT_COMPLETED)
def test_every_state_but_completed_is_listed_under_its_heading(
    tmp_path: Path, status: RowStatus
) -> None:
    with _ledger_with(tmp_path, [RowStatus.COMPLETED, status, RowStatus.COMPLETED]) as ledger:
        report = build_report(ledger, "b")
    assert [r.reference for r in report.exceptions] == ["E-1"]
    [group] = report.exception_groups
    assert (group.key, group.heading) == (str(status), ATTENTION[status])
    section = _exceptions_html(report)
    assert f"{ATTENTION[status]} (1)" in section and "<td>E-1</td>" in section
    assert "<td>E-0</td>" not in section and ALL_PAID not in render_html(report)
    assert not report.all_completed
    assert report.attention_line() == f"Not completed: {ATTENTION[status]}: 1"


def test_each_state_gets_its_own_heading(tmp_path: Path) -> None:
    with _ledger_with(tmp_path, NOT_COMPLETED) as ledger:
        report = build_report(ledger, "b")
    assert [g.key for g in report.exception_groups] == [str(s) for s in ATTENTION]
    assert set(ATTENTION) == set(NOT_COMPLETED)  # no state can drop out of the list
    section = _exceptions_html(report)
    assert all(f"{heading} (1)" in section for heading in ATTENTION.values())


def test_all_paid_only_when_every_row_completed(tmp_path: Path) -> None:
    with _ledger_with(tmp_path, [RowStatus.COMPLETED] * 2) as ledger:
        report = build_report(ledger, "b")
        write_report(report, tmp_path / "out", ("html", "xlsx"))
    assert report.all_completed and report.exception_groups == []
    assert "None: every row was paid as requested." in _exceptions_html(report)
    summary = openpyxl.load_workbook(tmp_path / "out" / "reconciliation.xlsx")["Summary"]
    assert "All 2 row(s) completed." in [c.value for row in summary.iter_rows() for c in row]


def test_last_run_follows_retry_and_status(tmp_path: Path) -> None:
    """A run on day 1, a retry on day 3, a status on day 5: "Last run" and the journal's
    date move with each; the first run stays the first run."""
    clock = FixedClock()
    ledger = Ledger(tmp_path / "l.sqlite", clock=clock)
    rows = [_row(2, "E-1", "10.00", "10.00"), _row(3, "E-2", "20.02", "20.02")]
    rows.append(_row(4, "E-3", "30.03", "30.03"))
    ledger.save_plan(
        make_plan("b", "sandbox", "s.csv", "", rows),
        sandbox=True,
        rounding="down",
        fee_option="deduct",
    )
    bank = SandboxBank()
    _engine(ledger, bank).send_planned()
    day1 = build_report(ledger, "b").last_activity
    clock.now += dt.timedelta(days=2)
    _engine(ledger, bank).retry_failed()  # E-2 fails again, as a new attempt
    after_retry = build_report(ledger, "b")
    assert after_retry.last_activity[:10] == "2026-11-03" > day1[:10]
    last_attempt = max(a.finished_at or a.started_at for a in ledger.attempts("b"))
    assert after_retry.last_activity == last_attempt
    html = render_html(after_retry)
    assert f"<dt>Last run</dt><dd>{after_retry.last_activity}</dd>" in html
    assert f"<dt>First run</dt><dd>{after_retry.batch.created_at}</dd>" in html
    clock.now += dt.timedelta(days=2)
    _engine(ledger, bank).refresh()  # `status`: lookups only
    after_status = build_report(ledger, "b")
    assert after_status.last_activity[:10] == "2026-11-05"
    assert after_status.as_of >= after_status.last_activity
    write_report(after_status, tmp_path / "out", ("journal",))
    journal = (tmp_path / "out" / "journal.csv").read_text(encoding="utf-8-sig")
    assert journal.splitlines()[1].startswith("2026-11-05,")
    ledger.close()


def test_csv_reports_carry_a_bom_and_the_memo(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite", clock=FixedClock())
    rows = [_row(2, "E-1", "10.00", "10.00", name="Sébastien Müller", memo="104365")]
    ledger.save_plan(
        make_plan("b", "sandbox", "s.csv", "", rows),
        sandbox=True,
        rounding="down",
        fee_option="deduct",
    )
    _engine(ledger).send_planned()
    with ledger:
        files = write_report(build_report(ledger, "b"), tmp_path / "out")
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".csv":
            assert data.startswith(b"\xef\xbb\xbf"), path.name  # Excel reads it as UTF-8
            assert not data[3:].startswith(b"\xef\xbb\xbf")
    text = (tmp_path / "out" / "reconciliation.csv").read_bytes().decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["name"], row["memo"]) == ("Sébastien Müller", "104365")
    sheet = openpyxl.load_workbook(tmp_path / "out" / "reconciliation.xlsx")["Rows"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=header.index("memo") + 1).value == "104365"
    html = (tmp_path / "out" / "reconciliation.html").read_text(encoding="utf-8")
    assert "<th>Memo / tag</th>" in html and '<td class="mono">104365</td>' in html
