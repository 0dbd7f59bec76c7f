"""Whether a batch's report files still show its ledger, and rewriting them when they do not.

When all the report files are written, the ledger records a *stamp* of what they were made
from (the batch's revision, its fixed details, the accounts and batchpay's version), the
*marks* of the files (size and modification time) and the summary they show. A later run
that changed nothing finds the same stamp and marks and leaves the accountant's files
untouched, answering with the stored summary; anything else rewrites them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchpay.report.model import BatchSummary
from batchpay.report.render import FILE_NAMES, FORMATS

if TYPE_CHECKING:
    from batchpay.config import Settings
    from batchpay.ledger import BatchInfo, Ledger
    from batchpay.report.model import Report
    from batchpay.report.valuation import Valuation


def current_reports(
    ledger: Ledger,
    info: BatchInfo,
    settings: Settings,
    formats: tuple[str, ...] = FORMATS,
    *,
    rewrite: bool = False,
) -> tuple[list[Path], BatchSummary]:
    """The batch's report files and their summary: the files as they are if they already
    show this ledger state (and ``rewrite`` is not asked), else written afresh."""
    directory = settings.report_dir_for(info.batch_id)
    if not rewrite and set(formats) == set(FORMATS):
        files = report_files(directory)
        marks = file_marks(files)
        recorded = ledger.report_stamp(directory)
        current = (report_stamp(ledger, info, settings), marks)
        if marks is not None and recorded is not None and recorded[:2] == current:
            return files, summary_from_json(recorded[2], info)
    return _write_reports(ledger, info, settings, formats)


def _write_reports(
    ledger: Ledger, info: BatchInfo, settings: Settings, formats: tuple[str, ...]
) -> tuple[list[Path], BatchSummary]:
    """Write the report files; when all of them are written, record the ledger state they
    show (with their summary) so a later run that changes nothing can leave them alone."""
    from batchpay.report import build_report, write_report  # the stage's face: patchable

    stamp = report_stamp(ledger, info, settings)  # before reading: never newer than it
    built = build_report(ledger, info.batch_id)
    directory = settings.report_dir_for(info.batch_id)
    valuation = valuation_for(built, settings)
    files = write_report(
        built, directory, formats, settings.accounts, valuation, settings.account_map
    )
    summary = built.summary()
    if set(formats) == set(FORMATS):
        ledger.record_report(directory, stamp, file_marks(files), summary_json(summary))
    return files, summary


def valuation_for(report: Report, settings: Settings) -> Valuation:
    """The report valued in ``settings.reporting_currency`` from ``settings.rates`` (a
    ConfigError, exit 2, if that file cannot be read or has a bad line), or not valued."""
    from batchpay.report.exports.rates import load_rates
    from batchpay.report.valuation import value_report

    currency, path = settings.reporting_currency, settings.rates
    rates = load_rates(path, currency) if path is not None else None
    return value_report(report, settings.reporting_currency, rates)


def report_stamp(ledger: Ledger, info: BatchInfo, settings: Settings) -> str:
    """Everything the report files are made from, except the time of a run that changed
    nothing: the batch's revision, its fixed details, the accounts, the valuation settings
    (and the rates file's bytes) and batchpay's version."""
    details = dataclasses.asdict(info)
    del details["last_run_at"], details["refreshed_at"]
    material = {
        "revision": ledger.revision(info.batch_id),
        "batch": details,
        "accounts": dict(settings.accounts),
        "version": _version(),
    }
    if settings.account_map.scopes or settings.reporting_currency:
        material["books"] = {
            "accounts": settings.account_map.as_json(),
            "reporting_currency": settings.reporting_currency,
            "rates": _file_digest(settings.rates),
        }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _file_digest(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def _version() -> str:
    try:
        return version("batchpay")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "source"


def report_files(directory: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    return [directory / FILE_NAMES[fmt] for fmt in formats]


def file_marks(files: list[Path]) -> dict[str, list[int]] | None:
    """Size and modification time of each file, or None if one is missing: enough to tell
    that nobody has replaced or edited a report since batchpay wrote it."""
    marks = {}
    for path in files:
        try:
            status = path.stat()
        except OSError:
            return None
        marks[path.name] = [status.st_size, status.st_mtime_ns]
    return marks


def summary_json(summary: BatchSummary) -> dict[str, Any]:
    """The summary as stored beside a report stamp. Its "as of" (the newest change to the
    rows, their requests and the batch when it was written) is kept as ``last_update``: a
    later run that changed nothing moves only the batch's times, from which "as of" is
    rebuilt."""
    data = dataclasses.asdict(summary)
    data["last_update"] = data.pop("as_of")
    return data


def summary_from_json(data: dict[str, Any], info: BatchInfo) -> BatchSummary:
    fields = {k: v for k, v in data.items() if k != "last_update"}
    as_of = max(info.last_run_at, info.refreshed_at or "", data["last_update"])
    return BatchSummary(as_of=as_of, **fields)
