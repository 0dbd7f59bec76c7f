"""Stage 6, report: the reconciliation an accountant books from, built from the ledger alone."""

from batchpay.report.books import journal_lines, render_attempts, render_journal
from batchpay.report.model import BUCKETS, CSV_COLUMNS, Report, build_report
from batchpay.report.render import FORMATS, render_csv, render_html, write_report

__all__ = [
    "BUCKETS",
    "CSV_COLUMNS",
    "FORMATS",
    "Report",
    "build_report",
    "journal_lines",
    "render_attempts",
    "render_csv",
    "render_html",
    "render_journal",
    "write_report",
]
