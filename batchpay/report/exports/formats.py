"""Each export format's writer: Books -> the file's text."""

from __future__ import annotations

from collections.abc import Callable

from batchpay.report.exports.beancount import render_beancount
from batchpay.report.exports.hledger import render_hledger
from batchpay.report.exports.journal import Books
from batchpay.report.exports.netsuite import render_netsuite
from batchpay.report.exports.qbo import render_qbo
from batchpay.report.exports.xero import render_xero

WRITERS: dict[str, Callable[[Books], str]] = {
    "qbo": render_qbo,
    "xero": render_xero,
    "netsuite": render_netsuite,
    "beancount": render_beancount,
    "hledger": render_hledger,
}


def render_export(fmt: str, books: Books) -> str:
    """The text of export ``fmt`` (one of EXPORT_FORMATS) for ``books``."""
    return WRITERS[fmt](books)
