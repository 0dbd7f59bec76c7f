"""Accounting exports (issue 17): the completed payouts of a batch as journals that
QuickBooks Online, Xero, NetSuite, beancount and hledger import as they are.

Built from the ledger alone (through :class:`batchpay.report.Report`), with no clock: the same
ledger, accounts and rates always give the same bytes. The shared model is
:mod:`batchpay.report.exports.journal`; each format is one module. This package's face holds
names only, so importing it loads nothing."""

from __future__ import annotations

EXPORT_FILES = {
    "qbo": "journal-qbo.csv",
    "xero": "journal-xero.csv",
    "netsuite": "journal-netsuite.csv",
    "beancount": "journal.beancount",
    "hledger": "journal.hledger",
}
EXPORT_FORMATS = tuple(EXPORT_FILES)
CSV_EXPORTS = ("qbo", "xero", "netsuite")
