"""A corrupted or read-only ledger is a clear sentence and exit 2, never a sqlite traceback
(issue 11, item 4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.helpers import cli, ended, read_only_ledger

LEDGER = "batchpay-ledger.sqlite"


def _paid(workdir: Path, write_sheet: Callable[..., Path], rows: int = 3) -> Path:
    sheet = write_sheet([(f"E{i}", f"{10 + i}.00") for i in range(rows)])
    ended(cli("run", sheet, "--provider", "sandbox", "--batch", "b"), 0)
    return sheet


@pytest.mark.parametrize("command", [["status"], ["retry"], ["report"]])
def test_a_ledger_of_garbage_bytes(
    workdir: Path, write_sheet: Callable[..., Path], command: list[str]
) -> None:
    _paid(workdir, write_sheet)
    (workdir / LEDGER).write_bytes(bytes(range(256)) * 64)
    result = ended(cli(*command, "--batch", "b"), 2)
    assert f"{LEDGER} is not a usable batchpay ledger" in result.stderr
    assert "restore it from a backup" in result.stderr


def test_a_ledger_corrupted_past_its_header(
    workdir: Path, write_sheet: Callable[..., Path]
) -> None:
    """The header is intact, so the file opens; the damage shows only when pages are read."""
    _paid(workdir, write_sheet, rows=400)
    path = workdir / LEDGER
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[2 * 4096 :] = b"\xa5" * (len(data) - 2 * 4096)
    path.write_bytes(bytes(data))
    for command in ("status", "report", "retry"):
        result = ended(cli(command, "--batch", "b"), 2)
        assert "not a usable batchpay ledger" in result.stderr, result.stderr


def test_a_read_only_ledger(
    workdir: Path, write_sheet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = _paid(workdir, write_sheet)
    read_only_ledger(monkeypatch, workdir / LEDGER)
    for args in (
        ("status", "--batch", "b"),
        ("retry", "--batch", "b"),
        ("run", sheet, "--provider", "sandbox", "--batch", "c", "--allow-duplicates"),
    ):
        result = ended(cli(*args), 2)
        assert f"the ledger {LEDGER} is read-only; batchpay must write to it" in result.stderr
    # a dry run only reads
    ended(
        cli(
            "run", sheet, "--provider", "sandbox", "--batch", "c", "--dry-run", "--allow-duplicates"
        ),
        0,
    )
