"""``python -m benchmarks.floor [ROWS]``: the per-row cost of the work validation cannot skip,
each piece done the fastest way CPython offers, on the benchmark sheet's own columns.

It answers "could ingest + validate of a 1M-row CSV be 4x read_csv on this machine?" The
pieces below are a lower bound: each is one pass with no batchpay logic around it.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from itertools import repeat

import pandas as pd

from batchpay.gcpause import paused_gc
from batchpay.model import PayoutRow
from benchmarks.cases import DATA
from benchmarks.generate import csv_sheet


def _per_row(label: str, rows: int, work: Callable[[], object]) -> float:
    best = min(_once(work) for _ in range(3))
    micro = best / rows * 1e6
    print(f"| {label} | {micro:.2f} µs |")
    return micro


def _once(work: Callable[[], object]) -> float:
    with paused_gc():  # as batchpay's stages run
        start = time.perf_counter()
        work()
        return time.perf_counter() - start


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    path = csv_sheet(DATA / f"sheet-{rows}.csv", rows)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    amounts = frame["amount"].tolist()
    references = frame["reference"].tolist()
    addresses = frame["address"].tolist()
    payloads = [a.encode() for a in addresses]
    decimals = list(map(Decimal, amounts))
    sha = hashlib.sha256

    print("| piece (fastest CPython form) | per row |")
    print("|---|---|")
    read = _per_row("read_csv(dtype=str) itself", rows, lambda: pd.read_csv(path, dtype=str))
    total = read
    total += _per_row(
        "one vectorised pandas string pass over the 7 columns (strip)",
        rows,
        lambda: [frame[c].str.strip() for c in frame.columns],
    )
    total += _per_row("Decimal from text, map()", rows, lambda: list(map(Decimal, amounts)))
    total += _per_row(
        "double SHA-256 of each address (hashlib)",
        rows,
        lambda: [sha(sha(p).digest()).digest() for p in payloads],
    )
    total += _per_row(
        "one regex check on each of the 4 checked text columns (Series.str.fullmatch)",
        rows,
        lambda: [
            frame["amount"].str.fullmatch(r"[0-9]+(\.[0-9]+)?"),
            frame["reference"].str.fullmatch(r"[A-Za-z0-9._/-]{1,64}"),
            frame["currency"].str.fullmatch(r"[A-Z0-9]{2,10}"),
            frame["address"].str.fullmatch(r"[1-9A-HJ-NP-Za-km-z]{25,64}"),
        ],
    )
    numbers = list(range(2, rows + 2))
    total += _per_row(
        "one PayoutRow per row (frozen dataclass, map straight over the columns)",
        rows,
        lambda: list(
            map(
                PayoutRow,
                numbers,
                references,
                decimals,
                decimals,
                decimals,
                repeat("USDT"),
                repeat("TRON"),
                addresses,
            )
        ),
    )
    print(f"| **sum of the floor** | **{total:.2f} µs** |")
    print(f"\nThe floor alone is {total / read:.1f}x read_csv on this run; the target is 4x.")


if __name__ == "__main__":
    main()
