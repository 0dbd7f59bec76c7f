"""The confirm step of run: on a terminal, a live provider is paid only after the batch id is
typed back; --yes skips it; with no terminal nothing is ever asked."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from batchpay import api
from batchpay.cli import confirm as confirm_cli
from batchpay.cli import main
from batchpay.config import load_settings
from batchpay.emulator import Emulator
from batchpay.emulator.server import EmulatorServer
from batchpay.errors import NotConfirmed
from batchpay.ledger import Ledger
from batchpay.review.confirm import ToConfirm

Write = Callable[..., Path]
ROWS = [("E-1", "10"), ("E-2", "20"), ("E-3", "30.5")]


@pytest.fixture
def server(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    srv = EmulatorServer(Emulator())
    srv.start()
    for name, value in srv.emulator.env(srv.url).items():
        monkeypatch.setenv(name, value)
    try:
        yield srv
    finally:
        srv.stop()


def _run(*args: str | Path, input: str | None = None) -> Result:
    return CliRunner().invoke(
        main, ["run", *(str(a) for a in args)], input=input, catch_exceptions=False
    )


def _terminal(monkeypatch: pytest.MonkeyPatch, present: bool) -> None:
    monkeypatch.setattr(confirm_cli, "is_interactive", lambda: present)


def test_a_no_terminal_run_never_prompts(server: EmulatorServer, write_sheet: Write) -> None:
    sheet = write_sheet(ROWS)
    done = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "batchpay"),
            "run",
            str(sheet),
            "--provider",
            "oxapay",
            "--batch",
            "b",
        ],
        stdin=subprocess.DEVNULL,  # not a terminal: reading it would be EOF, never a wait
        capture_output=True,
        text=True,
        timeout=120,  # only guards a broken test
        env=dict(os.environ),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Type the batch id" not in done.stderr and "LIVE" not in done.stderr
    assert server.emulator["oxapay"].count() == 3


def test_the_seam_asks_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    _terminal(monkeypatch, False)
    assert confirm_cli.confirmation(yes=False, dry_run=False) is None
    _terminal(monkeypatch, True)
    assert confirm_cli.confirmation(yes=False, dry_run=False) is confirm_cli.confirm_on_terminal
    assert confirm_cli.confirmation(yes=True, dry_run=False) is None
    assert confirm_cli.confirmation(yes=False, dry_run=True) is None


def test_a_pipe_is_not_a_terminal() -> None:
    code = "from batchpay.cli.confirm import is_interactive; print(is_interactive())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "False"


def test_declined_on_a_terminal_sends_nothing(
    server: EmulatorServer, write_sheet: Write, monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    _terminal(monkeypatch, True)
    result = _run(write_sheet(ROWS), "--provider", "oxapay", "--batch", "b", input="bb\n")
    assert result.exit_code == 2
    assert "LIVE" in result.stderr and "oxapay is about to send 3 payout(s)" in result.stderr
    assert "60.5 USDT on TRON" in result.stderr
    assert "not confirmed" in result.stderr and "nothing was sent" in result.stderr
    emu = server.emulator["oxapay"]
    assert emu.count() == 0 and ("POST", "/payout") not in emu.requests
    with Ledger(workdir / "batchpay-ledger.sqlite") as ledger:
        assert ledger.rows("b") == []  # nothing sending, nothing even planned


def test_an_empty_answer_or_end_of_input_declines(
    server: EmulatorServer, write_sheet: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    _terminal(monkeypatch, True)
    assert (
        _run(write_sheet(ROWS), "--provider", "oxapay", "--batch", "b", input="\n").exit_code == 2
    )
    assert _run(write_sheet(ROWS), "--provider", "oxapay", "--batch", "b", input="").exit_code == 2
    assert server.emulator["oxapay"].count() == 0


def test_typing_the_batch_id_pays(
    server: EmulatorServer, write_sheet: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    _terminal(monkeypatch, True)
    result = _run(write_sheet(ROWS), "--provider", "oxapay", "--batch", "b", input="b\n")
    assert result.exit_code == 0, result.output
    assert server.emulator["oxapay"].count() == 3


def test_yes_skips_the_question(
    server: EmulatorServer, write_sheet: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    _terminal(monkeypatch, True)
    result = _run(write_sheet(ROWS), "--provider", "oxapay", "--batch", "b", "--yes")
    assert result.exit_code == 0, result.output
    assert "Type the batch id" not in result.stderr
    assert server.emulator["oxapay"].count() == 3


def test_the_sandbox_and_a_resume_with_nothing_to_send_ask_nothing(
    server: EmulatorServer, write_sheet: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    _terminal(monkeypatch, True)
    sheet = write_sheet(ROWS)
    assert _run(sheet, "--provider", "sandbox", "--batch", "s").exit_code == 0
    assert _run(sheet, "--provider", "oxapay", "--batch", "b", input="b\n").exit_code == 0
    again = _run(sheet, "--provider", "oxapay", "--batch", "b")  # every row already sent
    assert again.exit_code == 0 and "Type the batch id" not in again.stderr


def test_the_library_hook(workdir: Path, write_sheet: Write) -> None:
    emulator = Emulator()
    settings = load_settings(
        {"ledger": workdir / "l.sqlite", "report_dir": workdir / "r"},
        environ=emulator.env(),
        cwd=workdir,
    )
    asked: list[ToConfirm] = []

    def no(what: ToConfirm) -> bool:
        asked.append(what)
        return False

    sheet = write_sheet(ROWS)
    with pytest.raises(NotConfirmed):
        api.run(sheet, "oxapay", "b", settings=settings, transport=emulator.transport(), confirm=no)
    assert emulator["oxapay"].count() == 0
    (what,) = asked
    assert (what.batch, what.provider, what.live, what.rows) == ("b", "oxapay", True, 3)
    assert what.totals == {"USDT": Decimal("60.5")}
    assert what.networks == {("USDT", "TRON"): Decimal("60.5")}
    assert len(what.digest) == 64


class _CtrlC:
    def readline(self) -> str:
        raise KeyboardInterrupt


def test_ctrl_c_at_the_prompt_exits_130_with_nothing_sent(
    server: EmulatorServer, write_sheet: Write, monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(sys, "stdin", _CtrlC())
        confirm_cli.ask_line("Type the batch id: ")  # not an answer: it is not swallowed
    _terminal(monkeypatch, True)

    def ctrl_c(question: str) -> str | None:
        assert question.startswith("Type the batch id (b)")
        raise KeyboardInterrupt

    monkeypatch.setattr(confirm_cli, "ask_line", ctrl_c)
    result = _run(write_sheet(ROWS), "--provider", "oxapay", "--batch", "b")
    assert result.exit_code == 130, result.stderr
    assert "interrupted" in result.stderr and "Traceback" not in result.output
    assert server.emulator["oxapay"].count() == 0
    with Ledger(workdir / "batchpay-ledger.sqlite") as ledger:
        assert ledger.rows("b") == []


def test_the_question_goes_to_stderr_and_json_stays_clean(
    server: EmulatorServer, write_sheet: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    _terminal(monkeypatch, True)
    sheet = write_sheet(ROWS)
    result = _run(sheet, "--provider", "oxapay", "--batch", "b", "--json", input=" b \n")
    assert result.exit_code == 0, result.stderr
    assert "Type the batch id (b)" in result.stderr and "LIVE" in result.stderr
    assert json.loads(result.stdout)["batch"] == "b"  # stdout is the JSON object alone
    assert server.emulator["oxapay"].count() == 3  # the id typed with spaces around it
