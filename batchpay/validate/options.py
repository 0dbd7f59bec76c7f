"""What a user tells batchpay about their sheet, beyond the sheet itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from batchpay.errors import UsageError
from batchpay.money import NumberFormat
from batchpay.resources import load_schema_file


@dataclass(frozen=True)
class SheetOptions:
    locale: str | None = None  # declared number format; None: plain amounts only
    allow_duplicates: bool = False  # the user has checked same-payment-twice rows
    expect_totals: Mapping[str, Decimal] = field(default_factory=dict)  # currency -> total
    expect_rows: int | None = None
    max_amounts: Mapping[str, Decimal] = field(default_factory=dict)  # currency -> cap
    preset: str | None = None  # a foreign layout: safe, coinspaid, inqud
    column_map: Mapping[str, str] = field(default_factory=dict)  # user header -> column

    def number_format(self) -> NumberFormat | None:
        if self.locale is None:
            return None
        table = load_schema_file("locales.toml")
        spec = table.get(self.locale)
        if spec is None:
            raise UsageError(f"unknown locale {self.locale!r}; known: {', '.join(sorted(table))}")
        return NumberFormat(self.locale, tuple(spec["group"]), spec["decimal"])
