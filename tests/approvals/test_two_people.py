"""README, "A month with two people": the commands run as written, from the command line, in
a fresh folder whose ledger holds last month's paid batch (paid before approvals were on)."""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

from batchpay.cli import main
from tests.conftest import ROOT, TRON

SECTION = "### A month with two people"


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n### ", start + len(SECTION))
    return text[start:end]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", section(), flags=re.S)


def sheet(path: Path, rows: list[tuple[str, str, str]]) -> None:
    lines = ["Employee ID,Name,Amount,Currency,Network,Wallet Address"]
    lines += [f"{ref},Person {ref},{amount},USDT,TRON,{address}" for ref, amount, address in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Shell:
    """Runs README lines: ``export NAME=value`` and ``batchpay ...`` (as ``python -m batchpay``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHPAY_")}
        self.env["BATCHPAY_SIGNING_KEY_PASSPHRASE"] = ""  # keygen: no passphrase, no prompt

    def __call__(self, line: str) -> subprocess.CompletedProcess[str]:
        words = shlex.split(line, comments=True)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            self.env[name] = value
            return subprocess.CompletedProcess(words, 0, "", "")
        assert words[0] == "batchpay", line
        return subprocess.run(
            [sys.executable, "-m", "batchpay", *words[1:]],
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,  # no terminal: nothing may wait for an answer
            capture_output=True,
            text=True,
            timeout=300,
        )

    def ok(self, line: str, code: int = 0) -> str:
        done = self(line)
        assert done.returncode == code, f"{line}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        return done.stdout + done.stderr


def sent(folder: Path, batch: str) -> int:
    with sqlite3.connect(folder / "batchpay-ledger.sqlite") as db:
        found = db.execute(
            "SELECT COUNT(*) FROM attempts WHERE batch_id = ? AND action = 'create'", (batch,)
        ).fetchone()
    db.close()
    return int(found[0])


def test_a_month_with_two_people_as_the_readme_tells_it(tmp_path: Path) -> None:
    run = Shell(tmp_path)
    # last month, paid before the team turned approvals on
    sheet(tmp_path / "nov.csv", [("E-0001", "1000", TRON[0]), ("E-0002", "1200", TRON[1]),
                                 ("E-0003", "900", TRON[2])])  # fmt: skip
    run.ok("batchpay run nov.csv --provider sandbox --batch payroll-2026-11")
    # this month: a raise for everyone, and E-0003's wallet "was updated" by an email
    sheet(tmp_path / "payroll-2026-12.csv", [("E-0001", "1010", TRON[0]),
                                             ("E-0002", "1210", TRON[1]),
                                             ("E-0003", "910", TRON[3])])  # fmt: skip

    keys, toml, month = blocks("sh")[0], blocks("toml"), blocks("sh")[1]
    for line in keys.strip().splitlines():
        run.ok(line)
    approvers = toml[0]
    for who in ("alice", "bob"):
        public = (tmp_path / "keys" / f"{who}.pub").read_text(encoding="utf-8").strip()
        approvers = approvers.replace(f"ssh-ed25519 AAAAC3Nza... {who}@example", public)
    (tmp_path / "approvers.toml").write_text(approvers, encoding="utf-8")
    (tmp_path / "batchpay.toml").write_text(toml[1], encoding="utf-8")

    steps = [line for line in month.strip().splitlines() if line.strip()]
    digest = ""
    for line in steps:
        if line.startswith("batchpay review") and "review" not in main.commands:
            continue  # the review pack comes with the review command (issue #14, item 1)
        if line.startswith("batchpay approve"):
            # before Bob approves: nothing can be paid, and an approval that does not name
            # the changed payee is refused with it
            refused = run.ok("batchpay run --batch payroll-2026-12", code=5)
            assert "needs 1 approval(s) and has 0" in refused
            assert sent(tmp_path, "payroll-2026-12") == 0
            refused = run.ok("batchpay approve --batch payroll-2026-12 --yes", code=5)
            assert "--ack E-0003" in refused and TRON[3] in refused
            assert "E-0001" not in refused.split("--ack", 1)[1]
        out = run.ok(line)
        if line.startswith("batchpay submit"):
            digest = re.findall(r"digest: ([0-9a-f]{64})", out)[0]
            assert "prepared by Alice Finance" in out
        if line.startswith("batchpay review"):
            assert digest in out
        if line.startswith("batchpay approve"):
            assert f"Bob Controller approved batch payroll-2026-12 (digest {digest})" in out
            assert "acknowledged: E-0003" in out
        if line.startswith("batchpay run"):
            assert "3 row(s): completed 3" in out
        if line.startswith("batchpay audit verify"):
            assert "chain and signatures valid" in out
    assert sent(tmp_path, "payroll-2026-12") == 3
    html = (tmp_path / "reports" / "payroll-2026-12" / "reconciliation.html").read_text("utf-8")
    assert "Bob Controller" in html and "Alice Finance" in html and digest in html

    # the auditor's check fails once an entry is touched
    with sqlite3.connect(tmp_path / "batchpay-ledger.sqlite") as db:
        db.execute("UPDATE audit_entries SET actor = 'Mallory' WHERE seq = 1")
    db.close()
    out = run.ok("batchpay audit verify --batch payroll-2026-12", code=1)
    assert "entry 1 (submit) was altered" in out
