"""The HTML report in a real browser: headless Chromium prints it to PDF (as a user would with
"Print to PDF"), and the PDF's text holds the per-currency totals. CI installs Debian's
chromium and poppler-utils; elsewhere the test is skipped when they are missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from batchpay.report import build_report, write_report
from tests.report.test_report import _mixed_ledger

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(
    not (CHROMIUM and PDFTOTEXT) and not os.environ.get("CI"),
    reason="chromium and pdftotext are not installed (CI installs them)",
)
def test_html_prints_to_a_pdf_with_the_totals(tmp_path: Path) -> None:
    assert CHROMIUM and PDFTOTEXT, "CI must install chromium and poppler-utils"
    with _mixed_ledger(tmp_path) as ledger:
        report = build_report(ledger, "payroll-2026-11")
    write_report(report, tmp_path / "out", ("html",))
    html = tmp_path / "out" / "reconciliation.html"
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    usdt = next(s for s in report.summaries if s.currency == "USDT")
    for figure in (usdt.requested, usdt.sent, usdt.debited, usdt.to_recipients):
        assert format(figure, "f") in text
    assert "SANDBOX" in text and "payroll-2026-11" in text
    assert "Check passes for every currency" in text
