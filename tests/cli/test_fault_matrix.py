"""Every command through every fault: a clear sentence, the exit code the CONTRACT gives, and
never a traceback (issue 11, item 3; issue 12, item 2a).

The ledger holds batch ``b`` (A completed, B failed, C pending) paid through the sandbox; ``run``
pays a new sheet as batch ``n``. A fault that fires "mid-way" fires at the first request to the
provider, after the write-ahead intent: money may have left.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batchpay import api
from batchpay.config import load_settings
from batchpay.errors import Terminated
from batchpay.providers.sandbox import SandboxProvider
from tests.cli.helpers import DiskFull, cli, ended, read_only_ledger
from tests.conftest import sheet_text

LEDGER = "batchpay-ledger.sqlite"
BANK = "batchpay-ledger.sandbox.sqlite"

DRY = "--dry-run"
COMMANDS: dict[str, Callable[[str | None], list[str]]] = {
    "validate": lambda b: ["validate", "new.csv", "--provider", "sandbox", "--no-annotated"],
    "run": lambda b: ["run", "new.csv", "--provider", "sandbox", "--batch", b or "n"],
    "dry-run": lambda b: [
        "run",
        "new.csv",
        "--provider",
        "sandbox",
        "--batch",
        b or "n",
        "--dry-run",
    ],
    "status": lambda b: ["status", "--batch", b or "b"],
    "retry": lambda b: ["retry", "--batch", b or "b"],
    "report": lambda b: ["report", "--batch", b or "b"],
}
ORDER = ("validate", "run", "dry-run", "status", "retry", "report")

BAD_BATCH = {"markup": "m[/x]", "long": "x" * 300, "dotdot": "..", "up": "../../x", "abs": "/tmp/x"}

# fault -> exit code per command, in ORDER
EXPECTED: dict[str, tuple[int, ...]] = {
    **{f"batch_{name}": (0, 2, 2, 2, 2, 2) for name in BAD_BATCH},
    "report_dir_is_a_file": (0, 2, 2, 2, 2, 2),
    "report_dir_unwritable": (0, 2, 2, 2, 2, 2),
    "disk_full_midway": (0, 3, 0, 2, 3, 0),
    "disk_full": (0, 2, 0, 2, 2, 2),
    "report_dir_vanishes_midway": (0, 3, 0, 2, 3, 0),
    "corrupt_ledger": (0, 2, 2, 2, 2, 2),
    "read_only_ledger": (0, 2, 0, 2, 2, 2),
    "sigint": (130,) * 6,
    "sigterm": (143,) * 6,
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    (folder / "paid.csv").write_text(sheet_text([("A", "10.00"), ("B", "20.02"), ("C", "30.03")]))
    (folder / "new.csv").write_text(sheet_text([("D", "11.00"), ("E", "12.00"), ("F", "13.00")]))
    settings = load_settings(
        {"ledger": folder / LEDGER, "report_dir": folder / "reports" / "b"}, environ={}
    )
    result = api.run(folder / "paid.csv", "sandbox", "b", settings=settings)
    assert result.summary is not None
    assert result.summary.counts["completed"] == result.summary.counts["failed"] == 1
    shutil.rmtree(folder / "reports")
    return folder


def _bank_payouts(workdir: Path) -> int:
    db = sqlite3.connect(workdir / BANK)
    try:
        return int(db.execute("SELECT COUNT(*) FROM payouts").fetchone()[0])
    finally:
        db.close()


class Faults:
    """Install one fault; ``on_call`` hooks fire once, at the first request to the provider
    that could move money (a create or a lookup); for the dry run, at its first quote. A run
    quotes fees before it sends (the pre-send checks), and a fault there is a fault before
    any payout, which the ``disk_full`` and ``sigint`` cases already cover."""

    def __init__(self, workdir: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
        self.workdir, self.monkeypatch, self.command = workdir, monkeypatch, command
        self.hooks: list[Callable[[], None]] = []
        methods = ("quote",) if command == "dry-run" else ("create", "lookup")
        for method in methods:
            real = getattr(SandboxProvider, method)
            monkeypatch.setattr(SandboxProvider, method, self._hooked(real))

    def _hooked(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(provider: SandboxProvider, *args: Any) -> Any:
            hooks, self.hooks = self.hooks, []
            for hook in hooks:
                hook()
            return real(provider, *args)

        return call

    def install(self, fault: str) -> str | None:
        """Set the fault up; return the batch id to use instead of the usual one, if any."""
        if fault.startswith("batch_"):
            return BAD_BATCH[fault.removeprefix("batch_")]
        getattr(self, fault)()
        return None

    def report_dir_is_a_file(self) -> None:
        (self.workdir / "afile").write_text("not a folder")
        self.monkeypatch.setenv("BATCHPAY_REPORT_DIR", "afile")

    def report_dir_unwritable(self) -> None:
        target = self.workdir / "locked"
        target.mkdir()
        target.chmod(0o555)  # root ignores the mode, so the access check is answered for it
        real = os.access  # the module object batchpay.guard asks too
        self.monkeypatch.setattr(
            os, "access", lambda p, m: False if Path(p) == target else real(p, m)
        )
        self.monkeypatch.setenv("BATCHPAY_REPORT_DIR", str(target))

    def disk_full_midway(self) -> None:
        self.hooks.append(DiskFull(self.monkeypatch).arm)

    def disk_full(self) -> None:
        DiskFull(self.monkeypatch).arm()

    def report_dir_vanishes_midway(self) -> None:
        self.monkeypatch.setenv("BATCHPAY_REPORT_DIR", "out")

        def vanish() -> None:
            shutil.rmtree(self.workdir / "out", ignore_errors=True)
            (self.workdir / "out").write_text("the folder was replaced by a file")

        self.hooks.append(vanish)

    def corrupt_ledger(self) -> None:
        (self.workdir / LEDGER).write_bytes(b"\x00garbage\xff" * 4096)

    def read_only_ledger(self) -> None:
        read_only_ledger(self.monkeypatch, self.workdir / LEDGER)

    def _interrupt(self, exc: type[KeyboardInterrupt]) -> None:
        def interrupt(*args: Any, **kwargs: Any) -> Any:
            raise exc()

        self.hooks.append(interrupt)
        # the api imports its stages when a command runs: patch the stage itself
        if self.command == "validate":
            self.monkeypatch.setattr(
                importlib.import_module("batchpay.ingest"), "read_sheet", interrupt
            )
        if self.command == "report":
            self.monkeypatch.setattr(
                importlib.import_module("batchpay.report"), "build_report", interrupt
            )

    def sigint(self) -> None:
        self._interrupt(KeyboardInterrupt)

    def sigterm(self) -> None:
        self._interrupt(Terminated)


CASES = [(fault, command) for fault in EXPECTED for command in ORDER]


@pytest.mark.parametrize(("fault", "command"), CASES, ids=[f"{f}-{c}" for f, c in CASES])
def test_every_command_through_every_fault(
    fault: str,
    command: str,
    template: Path,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copytree(template, workdir, dirs_exist_ok=True)
    before = _bank_payouts(workdir)
    batch = Faults(workdir, monkeypatch, command).install(fault)
    result = ended(cli(*COMMANDS[command](batch)), EXPECTED[fault][ORDER.index(command)])
    code = result.exit_code
    if code == 2 and command in ("run", "retry"):
        assert _bank_payouts(workdir) == before  # refused before the first payout
    if code != 0:
        assert result.stderr.strip(), "an exit code without a word"
    if code == 3:
        assert "Payouts had already left" in result.stderr
        assert "run the same command again" in result.stderr
    if code in (130, 143):
        assert "interrupted" in result.stderr
        if command in ("run", "retry", "status"):
            assert "run the same command again" in result.stderr
    if fault.startswith("batch_") and command != "validate":
        assert "is not a usable batch id" in result.stderr
        assert not (workdir / "reports").exists()
