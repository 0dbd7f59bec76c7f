"""Benchmark sheets: unique references, valid TRON addresses, two-decimal amounts."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from batchpay.validate.codecs import BITCOIN_ALPHABET

HEADER = ["reference", "name", "amount", "currency", "network", "address", "description"]


def _b58check(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = BITCOIN_ALPHABET[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def rows(count: int, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    result = []
    for i in range(count):
        address = _b58check(b"\x41" + rng.randbytes(20))
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
