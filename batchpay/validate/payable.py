"""What a provider can pay: the currency and network pairs in its own table.

A row the provider cannot pay is refused by ``validate --provider P``, by the dry run and by
the run, before anything is sent (otherwise the run finds out from a 422, row by row).

The tables are in ``schemas/providers.toml``:

- ``[P.networks]`` maps each canonical network to P's code; a network not in it (nor added in
  ``batchpay.toml`` under ``[networks.P]``) cannot be paid through P.
- ``[P.currencies]`` (where P publishes it) lists the currencies P pays on each network.
- ``P.source_currencies`` (fiat providers) lists the currencies a payout can be funded in.
- ``P.memo = "numeric"``: P's memo field takes digits only (TheDex).

The sandbox pays anything. Kept free of pandas so the run can use it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from batchpay.model import PayoutRow
from batchpay.problems import Problem
from batchpay.resources import load_schema_file

CODE = "provider.cannot_pay"


@dataclass(frozen=True)
class Payable:
    """One provider's table: ``networks`` None for a fiat provider (rows carry no network)."""

    provider: str
    networks: frozenset[str] | None = None
    currencies: Mapping[str, frozenset[str]] = field(default_factory=dict)  # network -> set
    source_currencies: frozenset[str] | None = None  # fiat providers: what funds a payout
    numeric_memo: bool = False  # the provider's memo field takes digits only

    def refusal(
        self, currency: str, network: str | None, memo: str | None = None
    ) -> tuple[str, str] | None:
        """(column, why) the provider cannot pay ``currency`` on ``network`` (with ``memo``);
        None if it can."""
        if memo and self.numeric_memo and not (memo.isascii() and memo.isdigit()):
            return "memo", (
                f"{self.provider} takes a numeric memo or tag only, not {memo!r}; "
                "pay this row through another provider"
            )
        if memo and self.numeric_memo and len(memo) > 1 and memo.startswith("0"):
            return "memo", (
                f"{self.provider} sends the memo as a number: {memo!r} would arrive as "
                f"{int(memo)}; pay this row through another provider"
            )
        if self.source_currencies is not None and currency not in self.source_currencies:
            return "currency", (
                f"{self.provider} pays out funded in {_words(self.source_currencies)} only, "
                f"not {currency}"
            )
        if self.networks is None or network is None:
            return None  # a missing network is the network rule's to report
        if network not in self.networks:
            return "network", (
                f"{self.provider} cannot pay on {network}; it pays on "
                f"{_words(self.networks)} (if your account has {network}, map it in "
                f'batchpay.toml: networks.{self.provider}.{network} = "<its code>")'
            )
        listed = self.currencies.get(network)
        if listed is not None and currency not in listed:
            return "currency", (
                f"{self.provider} cannot pay {currency} on {network}; "
                f"on {network} it pays {_words(listed)}"
            )
        return None


def load_payable(
    provider: str, network_overrides: Mapping[str, str] | None = None
) -> Payable | None:
    """The table for ``provider`` (None for the sandbox: it pays anything)."""
    if provider == "sandbox":
        return None
    spec = load_schema_file("providers.toml").get(provider, {})
    sources = spec.get("source_currencies")
    networks = spec.get("networks")
    return Payable(
        provider,
        networks=None
        if networks is None
        else frozenset(networks) | frozenset(network_overrides or {}),
        currencies={n: frozenset(c) for n, c in spec.get("currencies", {}).items()},
        source_currencies=None if sources is None else frozenset(sources),
        numeric_memo=spec.get("memo") == "numeric",
    )


def unpayable(rows: Iterable[PayoutRow], payable: Payable | None) -> list[Problem]:
    """One error per row whose currency and network the provider cannot pay."""
    if payable is None:
        return []
    problems = []
    refusals: dict[tuple[str, str | None], tuple[str, str] | None] = {}  # a few pairs a sheet
    for row in rows:
        pair = (row.currency, row.network)
        if pair not in refusals:
            refusals[pair] = payable.refusal(*pair)
        found = refusals[pair]
        if found is None and row.memo and payable.numeric_memo:
            found = payable.refusal(*pair, row.memo)
        if found is not None:
            column, reason = found
            value = {"network": row.network, "memo": row.memo}.get(column, row.currency)
            problems.append(Problem(CODE, reason, row=row.row, column=column, value=value))
    return problems


def _words(items: Iterable[str]) -> str:
    return ", ".join(sorted(items))
