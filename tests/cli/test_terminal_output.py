"""What the terminal says: text printed literally (issue 11, item 3), the rows that need
attention and why nothing was sent (issue 12, item 1c), a progress bar that ends its line."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from batchpay import terminal
from batchpay.errors import UsageError
from batchpay.guard import check_batch_id
from tests.cli.helpers import cli, ended
from tests.conftest import HEADER, TRON


def test_markup_and_emoji_codes_in_a_sheet_are_printed_as_written(workdir: Path) -> None:
    sheet = workdir / "s.csv"
    sheet.write_text(
        f"{HEADER},Bonus [/month]\n"
        f"E[/x],[bold]Ada[/bold] :smile:,10.02,USDT,TRON,{TRON[0]},,pay,1\n"
        f"[red]E2,Bob [link=http://x]me[/link],10.00,USDT,TRON,{TRON[1]},,pay,2\n"
    )
    checked = ended(cli("validate", sheet, "--no-annotated"), 0)
    assert "Bonus [/month]" in checked.stdout  # the unknown column, named as it is

    dry = ended(cli("run", sheet, "--provider", "sandbox", "--batch", "m", "--dry-run"), 0)
    assert "E[/x]" in dry.stdout and "[red]E2" in dry.stdout

    paid = ended(cli("run", sheet, "--provider", "sandbox", "--batch", "m"), 3)
    assert "E[/x]" in paid.stdout and "[bold]Ada[/bold] :smile:" in paid.stdout
    for command in ("status", "retry"):
        again = ended(cli(command, "--batch", "m"), 3)
        assert "[bold]Ada[/bold] :smile:" in again.stdout


def test_a_path_with_markup_in_an_error_is_printed_as_written(workdir: Path) -> None:
    result = ended(cli("status", "--batch", "b", "--ledger", "l[/x] :smile:.sqlite"), 2)
    assert "no ledger at l[/x] :smile:.sqlite" in result.stderr


def test_control_characters_are_shown_escaped_never_sent_to_the_terminal() -> None:
    assert terminal.literal("plain [/x] é") == "plain [/x] é"
    assert terminal.literal("\x1b[31mred\u202eevil\u200b") == "\\x1b[31mred\\u202eevil\\u200b"
    assert terminal.literal("two\nlines\t", newlines=True) == "two\nlines\\t"
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, markup=False, emoji=False, force_terminal=False)
    console.print(terminal.table(("name",), [("\x1b[2J[bold]x[/bold]",)]))
    assert "\x1b" not in buffer.getvalue() and "\\x1b[2J[bold]x[/bold]" in buffer.getvalue()


@pytest.mark.parametrize(
    "batch", ["m[/x]", "x" * 65, ".", "..", "../../x", "/tmp/x", "a/b", "a b", "", "é", "a\x00"]
)
def test_batch_ids_that_are_not_plain_names_are_refused(batch: str) -> None:
    with pytest.raises(UsageError, match="is not a usable batch id"):
        check_batch_id(batch)


@pytest.mark.parametrize("batch", ["payroll-2026-11", "a.b_c-1", "x" * 64, "...", "2026"])
def test_plain_batch_ids_are_accepted(batch: str) -> None:
    check_batch_id(batch)


def test_rows_that_need_attention_are_listed_and_capped(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    rows = [("OK", "10.00")] + [(f"F{i:02d}", f"1{i}.02") for i in range(12)]
    sheet = write_sheet(rows)
    result = ended(cli("run", sheet, "--provider", "sandbox", "--batch", "b"), 3)
    assert "12 row(s) need attention:" in result.stdout
    for col in ("row", "reference", "name", "status", "reason"):
        assert col in result.stdout
    listed = [line for line in result.stdout.splitlines() if "Recipient not found" in line]
    assert len(listed) == 10 and "F00" in listed[0] and "Person 1" in listed[0]
    assert "and 2 more; see the report" in result.stdout
    assert "F10" not in result.stdout and "OK " not in result.stdout

    status = ended(cli("status", "--batch", "b"), 3)
    assert "12 row(s) need attention:" in status.stdout

    again = ended(cli("run", sheet, "--provider", "sandbox", "--batch", "b"), 3)
    assert (
        "nothing to send: every row was already sent by an earlier run of this batch "
        "(completed 1, failed 12)" in again.stdout
    )


def test_retry_with_no_failed_row_says_nothing_to_send_and_why(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    sheet = write_sheet([("A", "10.00"), ("B", "10.03")])
    ended(cli("run", sheet, "--provider", "sandbox", "--batch", "b"), 0)
    result = ended(cli("retry", "--batch", "b"), 0)
    assert "nothing to send: no row failed for good (pending 1, completed 1)" in result.stdout
    assert "need attention" not in result.stdout


def test_the_progress_bar_ends_its_line_when_interrupted(
    workdir: Path, write_sheet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from batchpay.providers.sandbox import SandboxProvider

    screen = io.StringIO()
    monkeypatch.setattr(
        terminal,
        "err",
        Console(file=screen, force_terminal=True, width=80, markup=False, emoji=False),
    )

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(SandboxProvider, "create", interrupt)
    ended(cli("run", write_sheet([("A", "10.00")]), "--provider", "sandbox", "--batch", "b"), 130)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "interrupted: 1 sent, 0 not sent; run the same command again" in shown
    assert shown.endswith("\n") and not terminal.TerminalProgress.live
