"""The library surface: what a resume costs, and what it leaves alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from batchpay import api
from batchpay.config import Settings
from batchpay.jsonout import run_json
from batchpay.ledger import Ledger
from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "payroll-2026-11.csv"


def _marks(files: list[Path]) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in files}


def test_a_resume_that_changes_nothing_leaves_the_reports_alone(settings: Settings) -> None:
    first = api.run(SAMPLE, "sandbox", "b", settings=settings)
    assert first.exit_code == 0 and first.requests_sent == 10
    before = _marks(first.report_files)
    again = api.run(SAMPLE, "sandbox", "b", settings=settings)
    assert again.requests_sent == 0 and again.report_files == first.report_files
    assert _marks(again.report_files) == before
    first_json, again_json = run_json(first), run_json(again)
    assert again_json["rows"] == first_json["rows"] == 10
    # equal and in the same order: the resumed summary is the stored one
    assert list(again_json["counts"].items()) == list(first_json["counts"].items())
    assert list(again_json["totals"].items()) == list(first_json["totals"].items())
    assert again_json["as_of"] >= first_json["as_of"]


def test_reports_are_rewritten_when_missing_edited_or_out_of_date(settings: Settings) -> None:
    first = api.run(SAMPLE, "sandbox", "b", settings=settings)
    html, csv_file = first.report_files[0], first.report_files[1]
    html.unlink()
    assert api.run(SAMPLE, "sandbox", "b", settings=settings).report_files[0].is_file()
    csv_file.write_text("edited by hand")
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    assert csv_file.read_text(encoding="utf-8-sig").startswith("row,reference")
    with Ledger(settings.ledger) as ledger:
        revision = ledger.revision("b")
        ledger.flag_review("b", ledger.rows("b")[0].row_key, "a person must look")
        assert ledger.revision("b") > revision
    stamp = os.stat(csv_file).st_mtime_ns
    result = api.status("b", settings=settings)
    assert os.stat(csv_file).st_mtime_ns != stamp
    assert "needs_review" in csv_file.read_text()
    assert result.exit_code == 3


def test_the_summary_agrees_with_the_full_report(settings: Settings) -> None:
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    result = api.run(SAMPLE, "sandbox", "b", settings=settings)
    assert result.report is not None  # read back from the ledger on demand
    quick = result.summary  # the resume's summary: the one stored beside the report stamp
    assert quick is not None and quick == result.report.summary()
    assert quick.rows == len(result.report.rows) == 10
    assert quick.identity_holds and quick.all_accepted


def test_an_unchanged_sheet_is_not_saved_again(settings: Settings) -> None:
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    with Ledger(settings.ledger) as ledger:
        revision = ledger.revision("b")
        updated = [r.updated_at for r in ledger.rows("b")]
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    with Ledger(settings.ledger) as ledger:
        assert ledger.revision("b") == revision  # no row and no attempt was written
        assert [r.updated_at for r in ledger.rows("b")] == updated


def test_a_full_report_command_counts_as_current_for_the_next_run(settings: Settings) -> None:
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    files = api.report("b", settings=settings)
    before = _marks(files)
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    assert _marks(files) == before
    api.report("b", settings=settings, formats=("html",))  # one file: the stamp no longer holds
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    assert _marks(files)["reconciliation.csv"] != before["reconciliation.csv"]


def test_a_resume_lists_the_provider_again_only_when_the_batch_changed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batchpay.providers.base import Listing, Sent
    from batchpay.providers.sandbox import SandboxProvider

    listings: list[int] = []
    original = SandboxProvider.list_payouts

    def counted(self: SandboxProvider, sent: Sent | None = None) -> Listing | None:
        listings.append(1)
        return original(self, sent)

    monkeypatch.setattr(SandboxProvider, "list_payouts", counted)
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    assert len(listings) == 1  # the run that sent lists, finds all ten, marks it clean
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    assert len(listings) == 1  # nothing changed since a clean listing
    api.status("b", settings=settings)
    assert len(listings) == 2  # status always asks the provider
    with Ledger(settings.ledger) as ledger:
        ledger.flag_review("b", ledger.rows("b")[0].row_key, "a person must look")
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    assert len(listings) == 3  # the batch changed: list again


def test_a_listing_inside_the_grace_period_is_not_trusted_later(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batchpay.providers.sandbox import SandboxProvider

    monkeypatch.setattr(SandboxProvider, "grace_seconds", 3600.0)
    api.run(SAMPLE, "sandbox", "b", settings=settings)
    with Ledger(settings.ledger) as ledger:
        assert ledger.reconciled_revision("b") is None  # a late duplicate could still appear
