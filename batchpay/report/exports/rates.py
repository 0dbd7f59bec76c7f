"""Exchange rates for valuing payouts in the reporting currency: a rates file the user keeps.

The file is CSV, UTF-8 (a byte order mark is allowed), with the header ``date,currency,rate``:
``date`` is YYYY-MM-DD (a UTC day), ``currency`` the payout currency, and ``rate`` how many
units of the reporting currency one unit of ``currency`` was worth that day, as a plain
decimal (``0.9215``). Parsing is strict: any other line is a ConfigError (exit 2) naming the
file and line, never a guess. A line for the reporting currency itself may only say 1."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from batchpay.errors import ConfigError
from batchpay.money import to_wire

HEADER = ("date", "currency", "rate")
_RATE = re.compile(r"[0-9]{1,20}(\.[0-9]{1,30})?")
_CURRENCY = re.compile(r"[A-Z][A-Z0-9]{1,11}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # not 2026-W44-7, which Python also reads
SAME_CURRENCY = "same currency"


@dataclass(frozen=True)
class Rate:
    """A rate used: units of reporting currency per unit, and where it came from
    ("rates.csv 2026-11-02", or "same currency" for a payout in the reporting currency)."""

    rate: Decimal
    source: str


@dataclass(frozen=True)
class RateTable:
    name: str  # the file's name, as each rate's source gives it
    rates: dict[tuple[str, str], Decimal]  # (date, currency) -> rate

    def find(self, date: str, currency: str, reporting: str) -> Rate | None:
        """The rate of ``currency`` on ``date`` (YYYY-MM-DD), or None: never the nearest day."""
        if currency == reporting:
            return Rate(Decimal(1), SAME_CURRENCY)
        rate = self.rates.get((date, currency))
        return None if rate is None else Rate(rate, f"{self.name} {date}")


def load_rates(path: Path, reporting: str | None = None) -> RateTable:
    """Read a rates file (format in the module docstring); ConfigError on any bad line,
    including a rate other than 1 for ``reporting``, the reporting currency itself."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read the rates file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"rates file {path}: not UTF-8 text; save it as UTF-8 CSV") from None
    lines = list(csv.reader(text.splitlines()))
    if not lines or tuple(c.strip().lower() for c in lines[0]) != HEADER:
        raise ConfigError(f"rates file {path}: line 1 must be the header date,currency,rate")
    rates: dict[tuple[str, str], Decimal] = {}
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        date, currency, rate = _parse_line(path, number, cells)
        if currency == reporting and rate != 1:
            raise ConfigError(
                f"rates file {path}:{number}: {currency} is the reporting currency; its rate is "
                f"always 1, not {to_wire(rate)} (delete the line)"
            )
        if rates.get((date, currency), rate) != rate:
            raise ConfigError(
                f"rates file {path}:{number}: a second, different rate for {currency} on {date}"
            )
        rates[(date, currency)] = rate
    return RateTable(path.name, rates)


def _parse_line(path: Path, number: int, cells: list[str]) -> tuple[str, str, Decimal]:
    where = f"rates file {path}:{number}"
    if len(cells) != 3:
        raise ConfigError(f"{where}: expected 3 cells (date,currency,rate), found {len(cells)}")
    date, currency, rate = (c.strip() for c in cells)
    try:
        if not _DATE.fullmatch(date):
            raise ValueError(date)
        dt.date.fromisoformat(date)
    except ValueError:
        raise ConfigError(f"{where}: date {date!r} is not a day as YYYY-MM-DD") from None
    if not _CURRENCY.fullmatch(currency):
        raise ConfigError(f"{where}: currency {currency!r} is not a code such as USDT")
    if not _RATE.fullmatch(rate) or Decimal(rate) == 0:
        raise ConfigError(f"{where}: rate {rate!r} is not a plain positive decimal such as 0.9215")
    return date, currency, Decimal(rate)
