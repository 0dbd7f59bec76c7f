"""Benchmark sheets: unique references, valid TRON addresses, two-decimal amounts."""

from __future__ import annotations

import random
from pathlib import Path

HEADER = ["reference", "name", "amount", "currency", "network", "address", "description"]


def rows(count: int, seed: int = 7) -> list[list[str]]:
    # imported here: the start-up case's process must stay small (a forked child's peak
    # memory counts the parent's), and batchpay.validate brings pandas
    from batchpay.validate.codecs import b58check_encode

    rng = random.Random(seed)
    result = []
    for i in range(count):
        address = b58check_encode(b"\x41" + rng.randbytes(20))
        # cents in 05..99: the sandbox settles every one as completed
        amount = f"{rng.randint(100, 9999)}.{rng.randint(5, 99):02d}"
        result.append([f"E-{i:07d}", f"Person {i}", amount, "USDT", "TRON", address, "salary"])
    return result


def csv_sheet(path: Path, count: int) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            fh.write(",".join(HEADER) + "\n")
            for row in rows(count):
                fh.write(",".join(row) + "\n")
    return path


def xlsx_sheet(path: Path, count: int) -> Path:
    if not path.exists():
        from openpyxl import Workbook

        path.parent.mkdir(parents=True, exist_ok=True)
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Payroll")
        ws.append(HEADER)
        for row in rows(count):
            ws.append(row)
        wb.save(path)
    return path
