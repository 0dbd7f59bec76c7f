"""A stdout that cannot be written (``> out.json`` on a full disk, a closed descriptor) is not
an internal error: it used to say "internal error ... nothing more was done" and exit 2 after
`run` had paid every row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import pytest

from tests.conftest import sheet_text


def _batchpay(
    args: list[str], cwd: Path, stdout: int | IO[Any]
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHPAY_")}
    return subprocess.run(
        [sys.executable, "-m", "batchpay", *args],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_under_stdout_is_said_with_the_contract_code(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text(sheet_text([("A", "10.00"), ("B", "20.00")]))
    run = ["run", "s.csv", "--provider", "sandbox", "--batch", "b"]
    with open("/dev/full", "w") as full:
        for args, code in (
            (run, 3),  # the rows were paid: "see the report", never "nothing was done"
            ([*run, "--json"], 3),
            (["status", "--batch", "b"], 2),
            (["status", "--batch", "b", "--json"], 2),
        ):
            result = _batchpay(args, tmp_path, full)
            assert result.returncode == code, result.stderr
            assert "cannot write the output (No space left on device)" in result.stderr
            assert "internal error" not in result.stderr
            assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert (tmp_path / "reports" / "b" / "reconciliation.csv").exists()


def test_a_closed_stdout_is_said_not_an_internal_error(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text(sheet_text([("A", "10.00")]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHPAY_")}
    command = [sys.executable, "-m", "batchpay", "run", "s.csv", "--provider", "sandbox"]
    result = subprocess.run(
        [*command, "--batch", "b"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert result.returncode == 3, result.stderr
    assert "cannot write the output (stdout is closed)" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
