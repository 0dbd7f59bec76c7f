"""Start-up (issue 12, item 8): ``--help`` and ``--version`` load no sheet stages, and
``status``, ``retry`` and ``report`` load no pandas, pandera, numpy or openpyxl.

Asserted on the modules a fresh interpreter loads, never on wall-clock time (a loaded
machine would make that flaky); ``python -m benchmarks.run --only startup`` times it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import batchpay
from batchpay import api
from batchpay.config import Settings
from tests.conftest import ROOT

HEAVY = ("pandas", "pandera", "numpy", "openpyxl")  # the sheet stages and what they bring
LATE = ("jinja2", "httpx", "batchpay.api", "batchpay.ingest", "batchpay.validate")

# Runs the command as the `batchpay` script does, then names the modules it loaded.
PROBE = """
import json, sys
from batchpay.cli import main
code = 0
try:
    code = main(sys.argv[1:], prog_name="batchpay", standalone_mode=False)
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
print("PROBE " + json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHPAY_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def probe(*args: str, cwd: Path | None = None) -> tuple[int, set[str], str]:
    """(exit code, modules loaded, stdout) of one command in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=_env(),
        timeout=120,
        check=False,
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("PROBE ")]
    assert line, done.stderr
    data = json.loads(line[-1][len("PROBE ") :])
    return data["code"] or 0, set(data["modules"]), done.stdout


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules)


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("--help",),
        ("status", "--help"),
        ("retry", "--help"),
        ("report", "--help"),
        ("run", "--help"),
        ("validate", "--help"),
        ("webhooks", "serve", "--help"),
    ],
    ids=" ".join,
)
def test_help_and_version_load_no_sheet_stage(args: tuple[str, ...]) -> None:
    code, modules, shown = probe(*args)
    assert code == 0
    assert ("version" in shown) if args == ("--version",) else ("Usage: batchpay" in shown)
    assert loaded(modules, HEAVY + LATE) == []


def test_the_real_entry_point_loads_no_pandas() -> None:
    """`python -m batchpay --version`, read from the interpreter's own import log."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "batchpay", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "version" in done.stdout
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "batchpay.cli" in names and "click" in names  # the log was read
    assert loaded(names, HEAVY + LATE) == []


def test_importing_the_cli_or_a_leaf_module_loads_no_stage() -> None:
    script = (
        "import sys, json; import batchpay.cli, batchpay.money, batchpay.config; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
        check=True,
    )
    assert loaded(set(json.loads(done.stdout)), (*HEAVY, *LATE, "rich.progress")) == []


def test_no_module_that_status_retry_or_report_may_load_brings_pandas() -> None:
    """The kind, not the instance: every module of the stages after the sheet (providers and
    their HTTP adapters, the engine, the ledger, the report, the plan, the webhooks) and the
    api itself import without pandas, pandera, numpy or openpyxl."""
    script = (
        "import importlib, json, pkgutil, sys\n"
        "names = ['batchpay.api', 'batchpay.guard', 'batchpay.terminal', 'batchpay.cli']\n"
        "for pkg in ('providers', 'send', 'ledger', 'report', 'plan', 'webhooks'):\n"
        "    m = importlib.import_module('batchpay.' + pkg)\n"
        "    names += [i.name for i in pkgutil.walk_packages(m.__path__, m.__name__ + '.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps([names, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
        check=True,
    )
    names, modules = json.loads(done.stdout)
    assert "batchpay.providers.pay2328" in names and "batchpay.report.xlsx" in names
    assert loaded(set(modules), HEAVY) == []


@pytest.fixture
def paid_batch(settings: Settings, workdir: Path, write_sheet: Callable[..., Path]) -> Path:
    """A small sandbox batch with one row completed, one failed and one pending, so that
    status has a row to ask about, retry one to send again, and both a table to print."""
    sheet = write_sheet([("A-1", "10.00"), ("A-2", "20.02"), ("A-3", "30.03")])
    result = api.run(sheet, "sandbox", "b1", settings=settings)
    assert result.summary is not None and result.exit_code == 3
    assert {k: v for k, v in result.summary.counts.items() if v} == {
        "completed": 1,
        "failed": 1,
        "pending": 1,
    }
    return workdir


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (("status", "--batch", "b1", "--ledger", "ledger.sqlite"), 3),
        (("retry", "--batch", "b1", "--ledger", "ledger.sqlite"), 3),
        (("report", "--batch", "b1", "--ledger", "ledger.sqlite", "--report-dir", "again"), 0),
    ],
    ids=lambda c: c[0] if isinstance(c, tuple) else str(c),
)
def test_status_retry_and_report_load_no_pandas(
    paid_batch: Path, command: tuple[str, ...], code: int
) -> None:
    exited, modules, shown = probe(*command, cwd=paid_batch)
    assert exited == code, shown
    assert loaded(modules, (*HEAVY, "batchpay.ingest", "batchpay.validate")) == []
    if command[0] == "report":  # and the files are all there, the XLSX among them
        assert sorted(p.name for p in (paid_batch / "again").iterdir()) == [
            "attempts.csv",
            "journal.csv",
            "reconciliation.csv",
            "reconciliation.html",
            "reconciliation.xlsx",
        ]
    else:  # the command did its work: the rows needing attention are listed
        assert "3 row(s):" in shown and "row(s) need attention" in shown, shown
        assert "A-2" in shown


def test_the_package_face_is_lazy_and_keeps_its_names() -> None:
    script = (
        "import sys, json; import batchpay; before = 'batchpay.api' in sys.modules; "
        "import batchpay.validate.options, batchpay.report.render; "
        "f = batchpay.validate; r = batchpay.report; "
        "print(json.dumps([before, f.__module__, f.__name__, r.__module__, r.__name__]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
        check=True,
    )
    # nothing loaded up front; once asked, the names are the api's functions, even after
    # the same-named subpackages were imported
    assert json.loads(done.stdout) == [False, "batchpay.api", "validate", "batchpay.api", "report"]
    assert batchpay.run is api.run and batchpay.RunResult is api.RunResult
    assert set(batchpay.__all__) <= set(dir(batchpay))
    with pytest.raises(AttributeError):
        getattr(batchpay, "no_such_name")  # noqa: B009
    from batchpay import retry, status

    assert (retry, status) == (api.retry, api.status)


def test_the_cli_preset_names_are_the_validators() -> None:
    from batchpay import cli
    from batchpay.validate.presets import PRESETS

    assert cli.PRESETS == PRESETS


def test_column_letters_are_openpyxls() -> None:
    """The report's XLSX writer names columns itself, so openpyxl stays unloaded."""
    from openpyxl.utils import get_column_letter

    from batchpay.report.xlsx import column_letter

    for n in [*range(1, 1000), 16383, 16384, 18278]:
        assert column_letter(n) == get_column_letter(n)
