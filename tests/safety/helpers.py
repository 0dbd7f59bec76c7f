"""Shared by the safety tests: sheets, a driver process, and the invariants."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from batchpay.emulator import Emulator
from batchpay.emulator.server import EmulatorServer
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from batchpay.providers.tagged import tag_in
from tests.conftest import TRON


def attempt_keys(ledger: Ledger, batch_id: str) -> dict[str, str]:
    """Every key the batch has sent a create under -> its row key."""
    return {a.idempotency_key: a.row_key for a in ledger.attempts(batch_id) if a.action == "create"}


DRIVER = Path(__file__).with_name("driver.py")
CRYPTO = "reference,amount,currency,network,address,description\n"
FIAT = (
    "reference,amount,currency,country_code,payout_currency,payment_method,recipient_name,"
    "recipient.account_number\n"
)


def write_sheet(path: Path, provider: str, rows: int) -> Path:
    if provider == "pontis":
        lines = [
            f"P-{i:04d},{100 + i}.{i % 3 * 5}0,USDT,IN,INR,imps,Person {i},{i:012d}"
            for i in range(rows)
        ]
        path.write_text(FIAT + "\n".join(lines) + "\n")
    else:
        lines = [
            f"E-{i:04d},{10 + i}.{i % 97:02d}1,USDT,TRON,{TRON[i % 4]},pay" for i in range(rows)
        ]
        path.write_text(CRYPTO + "\n".join(lines) + "\n")
    return path


@contextmanager
def emulation() -> Iterator[EmulatorServer]:
    server = EmulatorServer(Emulator())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def driver_args(sheet: Path, provider: str, ledger: Path | str, url: str, *extra: str) -> list[str]:
    """The command line of a real batchpay process for these tests."""
    return [
        sys.executable,
        str(DRIVER),
        "--sheet",
        str(sheet),
        "--provider",
        provider,
        "--batch",
        "b",
        "--ledger",
        str(ledger),
        "--base-url",
        url,
        *extra,
    ]


def driver(
    sheet: Path, provider: str, ledger: Path | str, url: str, *extra: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        driver_args(sheet, provider, ledger, url, *extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def payout_keys(emulator: Emulator, provider: str) -> list[str | None]:
    """The key or tag each payout at the emulated provider carries."""
    book = emulator[provider].payouts
    if provider == "2328io":
        return [p["order_id"] for p in book]
    if provider == "pontis":
        return [p["idempotency_key"] for p in book]
    return [tag_in(str(p["description"])) for p in book]


def payout_refs_and_amounts(emulator: Emulator, provider: str) -> dict[str, Decimal]:
    book = emulator[provider].payouts
    field = {
        "oxapay": ("track_id", "amount"),
        "thedex": ("id", "withdrawalAmount"),
        "pontis": ("transaction_id", "source_amount"),
        "2328io": ("uuid", "amount"),
    }
    ref, amount = field[provider]
    return {str(p[ref]): Decimal(str(p[amount])) for p in book}


def check_invariants(
    ledger_path: Path | str, emulator: Emulator, provider: str, settled: bool = True
) -> dict[str, Any]:
    """At most one provider payout per row; every payout known to the ledger; amounts exact."""
    with Ledger(ledger_path) as ledger:
        rows = ledger.rows("b")
        keys = attempt_keys(ledger, "b")
    per_row = Counter(keys.get(k or "") for k in payout_keys(emulator, provider))
    assert None not in per_row, "a payout at the provider carries no key of this batch"
    duplicates = {k: n for k, n in per_row.items() if n > 1}
    assert not duplicates, f"rows paid more than once: {duplicates}"
    held = payout_refs_and_amounts(emulator, provider)
    known = {r.provider_ref: r for r in rows if r.provider_ref}
    by_key = {r.row_key: r for r in rows}
    row_of_ref = {
        ref: by_key[keys[key or ""]]
        for ref, key in zip(held, payout_keys(emulator, provider), strict=True)
    }
    for ref, amount in held.items():
        row = known.get(ref) or row_of_ref[ref]
        assert amount == row.amount, f"amount differs for {ref}"
        if ref not in known:  # the write-ahead rule: the ledger knows it may have been sent
            assert not settled and row.status in (RowStatus.SENDING, RowStatus.UNKNOWN), (
                f"payout {ref} is unknown to the ledger and its row is {row.status}"
            )
    assert set(known) <= set(held), "the ledger holds a reference the provider does not"
    if settled:
        open_rows = [
            r.reference
            for r in rows
            if r.status in (RowStatus.SENDING, RowStatus.UNKNOWN, RowStatus.PLANNED)
        ]
        assert not open_rows, f"rows not settled: {open_rows}"
    return {"rows": len(rows), "payouts": len(held)}
