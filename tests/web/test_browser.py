"""Issue 16, item 5, in a real browser: Playwright for Python driving Debian's chromium
(``executable_path``; no browser is ever downloaded). Skipped where chromium is absent,
unless CI is set: then its absence fails the test.

Every page visited is kept as a screenshot at 1280 px and at phone width (390 px) under
tests/web/artifacts/ (git-ignored)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchpay.web import library
from tests.conftest import TRON
from tests.web.conftest import PASSWORD, Web
from tests.web.helpers import approved, good_sheet, messy_sheet, zip_bomb

CHROMIUM = os.environ.get("BATCHPAY_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDTHS = {"1280": (1280, 900), "phone": (390, 844)}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"CI: the browser test needs chromium at {CHROMIUM}", pytrace=False)
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser() -> Iterator[Any]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class Person:
    """One person's browser window, signed in."""

    def __init__(self, browser: Any, web: Web, name: str) -> None:
        self.context = browser.new_context(
            base_url=web.url, accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        self.page = self.context.new_page()
        self.name = name
        self.page.goto("/login")
        # by keyboard only: the name field has the focus, Tab to the password, Enter. The
        # focus (autofocus) may land after the load event on a busy machine: wait for it,
        # or the first keys would go nowhere
        from playwright.sync_api import expect

        expect(self.page.get_by_label("Name")).to_be_focused()
        self.page.keyboard.type(name)
        self.page.keyboard.press("Tab")
        self.page.keyboard.type(PASSWORD)
        self.page.keyboard.press("Enter")
        self.page.wait_for_url(f"{web.url}/")

    def shot(self, label: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        for width, (w, h) in WIDTHS.items():
            self.page.set_viewport_size({"width": w, "height": h})
            self.page.screenshot(path=ARTIFACTS / f"{label}-{width}.png", full_page=True)
        self.page.set_viewport_size({"width": 1280, "height": 900})

    def upload(self, batch: str, path: Path) -> None:
        page = self.page
        page.get_by_label("Batch id").fill(batch)
        page.get_by_label("Provider").select_option("sandbox")
        page.get_by_label("Sheet").set_input_files(str(path))
        page.get_by_role("button", name="Upload and check").click()

    def csrf(self) -> str:
        return str(self.page.locator("input[name=csrf]").first.get_attribute("value"))

    def close(self) -> None:
        self.context.close()


def test_the_month_in_the_browser(
    browser: Any,
    web: Web,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    gate = threading.Event()
    request.addfinalizer(gate.set)  # a failing test never leaves the run waiting
    real_run = library.run

    def gated_run(settings: Any, sheet: Path, provider: str, batch: str, progress: Any) -> Any:
        progress.start("waiting to send", 3)  # the page shows it until the test opens the gate
        gate.wait(timeout=120)
        return real_run(settings, sheet, provider, batch, progress)

    monkeypatch.setattr(library, "run", gated_run)
    (workdir / "messy.csv").write_bytes(messy_sheet())
    (workdir / "payroll.csv").write_bytes(good_sheet())
    (workdir / "bomb.xlsx").write_bytes(zip_bomb())

    anon = browser.new_page(base_url=web.url)
    anon.goto("/login")
    anon.get_by_label("Name").fill("x")  # labels name every field
    anon.close()

    alice = Person(browser, web, "alice")
    alice.shot("01-batches-empty")
    page = alice.page
    page.get_by_role("link", name="New batch", exact=True).click()
    alice.shot("02-new-batch")

    # the preparer uploads a messy sheet and sees its problems
    alice.upload("payroll-2026-11", workdir / "messy.csv")
    problems = page.locator("table.problems tbody tr")
    assert problems.count() >= 3
    first = problems.first.locator("td")
    assert [first.nth(i).inner_text() for i in range(3)] == ["2", "amount", "12O.00"]
    assert page.locator("table.problems tbody td").nth(4).inner_text().strip() != ""  # a fix
    alice.shot("03-problems")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the sheet with each problem marked (XLSX)").click()
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"

    # ... uploads the fixed sheet and submits it
    alice.upload("payroll-2026-11", workdir / "payroll.csv")
    page.wait_for_url("**/batches/payroll-2026-11/review")
    assert "SANDBOX" in page.locator(".banner").inner_text()
    alice.shot("04-review")
    page.get_by_role("button", name="Submit for approval").click()
    page.wait_for_url("**/review")
    assert "submitted" in page.locator(".state").inner_text()

    # a preparer cannot approve (their own) batch
    answer = page.goto("/batches/payroll-2026-11/approve")
    assert answer is not None and answer.status == 403
    alice.shot("05-refused")

    # a form posted without its CSRF token is refused
    page.goto("/")
    refused = alice.context.request.post(f"{web.url}/logout", form={"name": "x"})
    assert refused.status == 403

    # a viewer can neither approve nor run
    vera = Person(browser, web, "vera")
    answer = vera.page.goto("/batches/payroll-2026-11/approve")
    assert answer is not None and answer.status == 403
    vera.page.goto("/batches/payroll-2026-11/run")
    assert vera.page.get_by_role("button", name="Pay this batch").count() == 0
    token = vera.csrf()
    for action in ("approve", "run"):
        posted = vera.context.request.post(
            f"{web.url}/batches/payroll-2026-11/{action}", form={"csrf": token}
        )
        assert posted.status == 403, action
    vera.close()

    # the approver approves
    bob = Person(browser, web, "bob")
    bob.page.goto("/batches/payroll-2026-11/approve")
    assert bob.page.locator("code.digest").first.inner_text() != ""
    bob.shot("06-approve")
    bob.page.get_by_role("button", name="Approve this plan").click()
    bob.page.wait_for_url("**/batches/payroll-2026-11/run")
    bob.shot("07-run-approved")

    # the run shows its progress live, then completes
    bob.page.get_by_role("button", name="Pay this batch").click()
    bob.page.wait_for_url("**/run")
    label = bob.page.locator("#label")
    label.filter(has_text="waiting to send: 0 of 3").wait_for()  # pushed by server-sent events
    bob.shot("08-run-progress")
    gate.set()
    outcome = bob.page.locator("#outcome")
    outcome.filter(has_text="Finished").wait_for(timeout=60_000)  # server-sent events, reload
    assert "every row was accepted or completed" in outcome.inner_text()
    bar = bob.page.locator("#bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "3"
    assert bob.page.locator("table.rows tbody tr").count() == 3
    bob.shot("09-run-finished")
    bob.page.get_by_label("Show rows with status").select_option("failed")
    bob.page.get_by_role("button", name="Filter").click()
    assert bob.page.locator("table.rows tbody tr").count() == 0
    bob.shot("10-run-filtered")

    # the downloaded reports are the CLI's bytes
    bob.page.goto("/batches/payroll-2026-11/run")
    bob.page.get_by_role("link", name="Report files").click()
    bob.shot("11-reports")
    cli_dir = workdir / "cli-reports"
    cli = subprocess.run(
        [
            Path(sys.executable).parent / "batchpay",
            "report",
            "--batch",
            "payroll-2026-11",
            "--ledger",
            str(web.settings.ledger),
            "--report-dir",
            str(cli_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    names = ["reconciliation.html", "reconciliation.csv", "reconciliation.xlsx"]
    for name in names:
        with bob.page.expect_download() as download:
            bob.page.get_by_role("link", name=name, exact=True).click()
        assert Path(download.value.path()).read_bytes() == (cli_dir / name).read_bytes(), name

    # the next month: E-002's wallet changed and E-004 is new; each needs its own tick
    wallets = (TRON[0], TRON[3], TRON[2], TRON[1])
    (workdir / "december.csv").write_bytes(
        good_sheet(("110.00", "260.50", "80.25", "55.00"), wallets)
    )
    page.goto("/batches/new")
    alice.upload("payroll-2026-12", workdir / "december.csv")
    page.wait_for_url("**/batches/payroll-2026-12/review")
    assert page.locator("table.changes tbody tr").count() >= 2
    alice.shot("14-review-changes")
    page.get_by_role("button", name="Submit for approval").click()
    bob.page.goto("/batches/payroll-2026-12/approve")
    bob.shot("15-approve-changes")
    bob.page.get_by_label("E-002").check()
    bob.page.get_by_role("button", name="Approve this plan").click()
    assert "E-004" in bob.page.locator(".alert").inner_text()  # one tick is missing
    bob.page.get_by_label("E-002").check()
    bob.page.get_by_label("E-004").check()
    bob.page.get_by_role("button", name="Approve this plan").click()
    bob.page.wait_for_url("**/batches/payroll-2026-12/run")
    assert bob.page.get_by_role("button", name="Pay this batch").count() == 1
    bob.close()

    # a zip bomb is refused
    page.goto("/batches/new")
    alice.upload("bomb", workdir / "bomb.xlsx")
    assert "zip bomb" in page.locator(".alert").inner_text()
    alice.shot("12-zip-bomb")
    page.goto("/")
    assert page.locator("tbody tr").count() == 2
    alice.shot("13-batches")
    alice.close()


def test_with_javascript_off_every_page_reads_and_the_run_page_refreshes_itself(
    browser: Any, web: Web, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    gate = threading.Event()
    request.addfinalizer(gate.set)
    real_run = library.run

    def gated_run(settings: Any, sheet: Path, provider: str, batch: str, progress: Any) -> Any:
        progress.start("waiting to send", 2)
        gate.wait(timeout=120)
        return real_run(settings, sheet, provider, batch, progress)

    monkeypatch.setattr(library, "run", gated_run)
    approved(web, "nov")
    context = browser.new_context(base_url=web.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for path in ("/", "/batches/new", "/batches/nov/review", "/batches/nov/run"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, path
        assert page.locator("h1").inner_text() != ""
    page.get_by_role("button", name="Pay this batch").click()
    page.locator("#label").filter(has_text="waiting to send: 0 of 2").wait_for()
    gate.set()
    # no script runs: the page's own refresh (a meta refresh inside <noscript>) shows the end
    page.locator("#outcome").filter(has_text="Finished").wait_for(timeout=60_000)
    assert page.locator("table.rows tbody tr").count() == 2
    context.close()


def test_four_eyes_in_the_browser_signed_submit_and_approve_then_audit_verify(
    browser: Any, workdir: Path
) -> None:
    """With an approvers file listing each person's web key: the preparer submits and the
    approver approves in the browser (typing their password to sign), with a tick per
    changed payee the next month; each run pays and `audit verify` accepts the web
    signatures. A wrong password signs nothing."""
    from tests.approvals.helpers import four_eyes, sent_requests
    from tests.web.conftest import web_app, web_key

    people = [("Alice Finance", "preparer", web_key("alice")[0]),
              ("Bob Approver", "approver", web_key("bob")[0])]  # fmt: skip
    settings = four_eyes(workdir, people)
    (workdir / "batchpay.toml").write_text('approvers = "approvers.toml"\n', encoding="utf-8")
    (workdir / "nov.csv").write_bytes(good_sheet(("100.00", "250.50", "75.25")))
    wallets = (TRON[0], TRON[3], TRON[2], TRON[1])  # E-002 moves; E-004 is new
    (workdir / "dec.csv").write_bytes(good_sheet(("110.00", "260.50", "80.25", "55.00"), wallets))
    with web_app(settings, workdir, ledger_audit=True) as web:
        alice, bob = Person(browser, web, "alice"), Person(browser, web, "bob")
        for month, acks in (("nov", ()), ("dec", ("E-002", "E-004"))):
            alice.page.goto("/batches/new")
            alice.upload(month, workdir / f"{month}.csv")
            alice.page.wait_for_url(f"**/batches/{month}/review")
            if month == "dec":  # a wrong password signs nothing
                alice.page.get_by_label("Your password, to sign with your key").fill("wrong one!")
                alice.page.get_by_role("button", name="Submit for approval").click()
                assert "nothing was signed" in alice.page.locator(".alert").inner_text()
                alice.shot("16-step-up-refused")
                alice.page.goto(f"/batches/{month}/review")
            alice.page.get_by_label("Your password, to sign with your key").fill(PASSWORD)
            alice.page.get_by_role("button", name="Submit for approval").click()
            alice.page.wait_for_url(f"**/batches/{month}/review")
            assert "submitted" in alice.page.locator(".state").inner_text()
            bob.page.goto(f"/batches/{month}/approve")
            for reference in acks:
                bob.page.get_by_label(reference).check()
            bob.page.get_by_label("Your password, to sign with your key").fill(PASSWORD)
            if month == "dec":
                bob.shot("17-approve-signed")
            bob.page.get_by_role("button", name="Approve this plan").click()
            bob.page.wait_for_url(f"**/batches/{month}/run")
            bob.page.get_by_role("button", name="Pay this batch").click()
            outcome = bob.page.locator("#outcome")
            outcome.filter(has_text="Finished").wait_for(timeout=60_000)
            assert "every row was accepted or completed" in outcome.inner_text()
        bob.shot("18-run-four-eyes")
        alice.close()
        bob.close()
    assert (sent_requests(settings, "nov"), sent_requests(settings, "dec")) == (3, 4)
    for month in ("nov", "dec"):
        verified = subprocess.run(
            [Path(sys.executable).parent / "batchpay", "audit", "verify", "--batch", month,
             "--ledger", str(settings.ledger)],
            capture_output=True, text=True, check=False, cwd=workdir,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "Alice Finance: submit via web (web account alice)" in verified.stdout
        assert "Bob Approver: approve via web (web account bob)" in verified.stdout
