"""The accounts the journals book to: ``[accounts]`` in ``batchpay.toml``, per provider, network
and currency, by name or by code.

```toml
[accounts]
expense = "Payroll expense"                        # a name ...
fees = { name = "Payout fees", code = "6150" }      # ... or a name and a code
[accounts.USDT]
provider = { name = "USDT wallet", code = "1210" }
[accounts.oxapay.TRON.USDT]
provider = "OxaPay TRON USDT"
```

A role is looked up from the most specific table to the least: provider.network.currency,
provider.network, provider.currency, provider, network.currency, network, currency, then the
top of ``[accounts]``, then the built-in default. The first table that names the role gives
the whole account (its name and its code)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from batchpay.errors import ConfigError
from batchpay.resources import load_schema_file

ROLES = ("expense", "fees", "provider", "rounding")
DEFAULT_NAMES = {
    "expense": "Payroll expense",
    "fees": "Payout fees",
    "provider": "Provider balance ({provider})",
    "rounding": "Payout rounding",
}
DEFAULT_TAX_RATE = "Tax Exempt"  # Xero wants a tax rate name on every manual journal line
# beancount and hledger account trees: the root each role books under unless its name has one
LEDGER_ROOTS = {"expense": "Expenses", "fees": "Expenses", "rounding": "Expenses"}
ROOT_NAMES = ("Assets", "Liabilities", "Equity", "Income", "Expenses")
PLACEHOLDERS = ("provider", "network", "currency")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_FIAT = re.compile(r"[A-Z]{3}")  # an ISO 4217 code (pontis pays out fiat)


@cache
def known_currencies() -> frozenset[str]:
    """Every currency batchpay knows the decimal places of (schemas/scales.toml): the only
    ones a sheet can pay, so the only ones an ``[accounts.<CURRENCY>]`` table can be for."""
    scales = load_schema_file("scales.toml")
    found = set(scales.get("currency", {}))
    for group in ("network", "provider"):
        for table in scales.get(group, {}).values():
            found |= {key.split("_")[0] for key in table}
    return frozenset(found)


@dataclass(frozen=True)
class AccountSpec:
    name: str
    code: str = ""


@dataclass(frozen=True)
class Account:
    """One account as each system needs it: ``name`` (QuickBooks), ``code or name`` (Xero,
    NetSuite) and ``ledger_name`` (beancount, hledger: ``Root:Component``)."""

    role: str
    name: str
    code: str
    ledger_name: str

    @property
    def code_or_name(self) -> str:
        return self.code or self.name


@dataclass(frozen=True)
class AccountMap:
    """Scope ("" | "USDT" | "TRON.USDT" | "oxapay.TRON.USDT" ...) -> role -> account."""

    scopes: Mapping[str, Mapping[str, AccountSpec]] = field(default_factory=dict)
    tax_rate: str = DEFAULT_TAX_RATE

    def lookup(self, role: str, provider: str, network: str, currency: str) -> Account:
        """The account for ``role`` of a payout by ``provider`` on ``network`` in ``currency``
        (order in the module docstring); names may hold {provider}, {network}, {currency}."""
        spec = AccountSpec(DEFAULT_NAMES[role])
        for scope in _candidates(provider, network, currency):
            found = self.scopes.get(scope, {}).get(role)
            if found is not None:
                spec = found
                break
        name = spec.name
        for key, value in (("provider", provider), ("network", network), ("currency", currency)):
            name = name.replace("{" + key + "}", value)
        return Account(role, name, spec.code, ledger_name(role, name))

    def as_json(self) -> dict[str, Any]:
        scopes = {s: {r: [a.name, a.code] for r, a in t.items()} for s, t in self.scopes.items()}
        return {"scopes": scopes, "tax_rate": self.tax_rate}


def _candidates(provider: str, network: str, currency: str) -> list[str]:
    """Scopes from the most specific to the least; a part that is empty (a fiat payout has
    no network) drops the scopes that name it."""
    p, n, c = provider, network, currency
    scopes = [(p, n, c), (p, n), (p, c), (p,), (n, c), (n,), (c,)]
    return [".".join(s) for s in scopes if all(s)] + [""]


def ledger_name(role: str, name: str) -> str:
    """``name`` as a beancount/hledger account: components of letters, digits and dashes,
    each starting upper-case or with a digit, under the role's root (Assets for the provider
    balance) unless the name starts with a root of its own ("Assets:Crypto:USDT" stays as it is)."""
    parts = [_component(p) for p in name.split(":")]
    parts = [p for p in parts if p]
    if not parts or parts[0] not in ROOT_NAMES:
        parts.insert(0, LEDGER_ROOTS.get(role, "Assets"))
    if len(parts) == 1:
        parts.append(role.capitalize())
    return ":".join(parts)


def _component(text: str) -> str:
    """One account component as beancount reads it: letters (any script), digits (``Nd``)
    and single dashes, starting with an upper-case letter or a digit ("X" is put before a
    letter that has no upper case, such as 給)."""
    kept = "".join(c if _in_component(c) else " " for c in text)
    cleaned = "-".join(kept.split())
    if not cleaned:
        return ""
    first = cleaned[0].upper()
    if unicodedata.category(first[0]) not in ("Lu", "Nd"):
        first = "X" + cleaned[0]
    return first + cleaned[1:]


def _in_component(char: str) -> bool:
    return unicodedata.category(char)[0] == "L" or unicodedata.category(char) == "Nd"


def parse_accounts(
    table: Mapping[str, Any],
    where: str,
    providers: Collection[str],
    networks: Mapping[str, str],
) -> tuple[dict[str, str], AccountMap]:
    """``[accounts]`` -> (the flat name map journal.csv uses, the scoped map the exports use).

    A table name is a provider (one of ``providers``), a network (any spelling in
    ``networks``, upper case -> canonical name) or a currency (:func:`known_currencies`, or
    three letters for fiat). Raises ConfigError naming ``where`` for a key that is neither a
    role nor such a table (a misspelt provider is never taken for a currency), or for a name
    with a placeholder other than {provider}, {network} and {currency}."""

    def classify(part: str) -> tuple[str, str, str]:
        """(kind, name, the network's name if the part is also a currency: "either")."""
        upper = part.upper()
        if part in providers:
            return "provider", part, ""
        known = upper in known_currencies()
        if upper in networks:
            return ("either", upper, networks[upper]) if known else ("network", networks[upper], "")
        if known or _FIAT.fullmatch(upper):
            return "currency", upper, ""
        raise ConfigError(
            f"{where}: [accounts.{part}] is not a provider ({', '.join(providers)}), a network "
            "or a currency batchpay knows; check its spelling"
        )

    scopes: dict[str, dict[str, AccountSpec]] = {}
    tax_rate = DEFAULT_TAX_RATE
    pending: list[tuple[tuple[str, ...], Mapping[str, Any]]] = [((), table)]
    while pending:
        path, current = pending.pop()
        for key, value in current.items():
            if key in ROLES:
                scope = _scope(path, classify, where)
                scopes.setdefault(scope, {})[key] = _spec(value, f"{where}: accounts.{key}")
            elif key == "tax_rate" and not path and isinstance(value, str) and value.strip():
                tax_rate = value
            elif isinstance(value, dict) and len(path) < 3:
                pending.append(((*path, str(key)), value))
            else:
                raise ConfigError(
                    f"{where}: [accounts] has no {key!r}; it takes {', '.join(ROLES)}, "
                    "tax_rate, or a table per provider, network or currency "
                    "([accounts.USDT], [accounts.oxapay.TRON.USDT])"
                )
    flat = {role: spec.name for role, spec in scopes.get("", {}).items()}
    return flat, AccountMap(scopes, tax_rate)


def _scope(
    path: tuple[str, ...], classify: Callable[[str], tuple[str, str, str]], where: str
) -> str:
    """A table path in canonical order: provider.network.currency (any of them may be left
    out). A part that is both a currency and a network's short name (ETH, BTC, TRX, TON) is
    the currency, unless another part is the currency: [accounts.ETH] is ether, wherever it
    is paid; [accounts.ETH.USDT] is USDT on Ethereum."""
    found = [classify(part) for part in path]
    has_currency = any(kind == "currency" for kind, _, _ in found)
    kinds: dict[str, str] = {}
    for kind, name, network in found:
        if kind == "either":
            kind, name = ("network", network) if has_currency else ("currency", name)
        if kind in kinds:
            raise ConfigError(f"{where}: [accounts.{'.'.join(path)}] names two {kind}s")
        kinds[kind] = name
    return ".".join(kinds[k] for k in ("provider", "network", "currency") if k in kinds)


def _spec(value: Any, key: str) -> AccountSpec:
    if isinstance(value, str) and value.strip():
        return _placeholders(AccountSpec(value), key)
    if isinstance(value, dict) and set(value) <= {"name", "code"} and value:
        name, code = value.get("name", ""), value.get("code", "")
        if isinstance(name, str) and isinstance(code, str) and (name.strip() or code.strip()):
            return _placeholders(AccountSpec(name or code, code), key)
    raise ConfigError(
        f"{key} = {value!r} is not allowed; write the account name as a string, or "
        '{ name = "...", code = "..." }'
    )


def _placeholders(spec: AccountSpec, key: str) -> AccountSpec:
    """``spec``, if every ``{...}`` in its name is one :meth:`AccountMap.lookup` fills in."""
    unknown = [p for p in _PLACEHOLDER.findall(spec.name) if p not in PLACEHOLDERS]
    if unknown:
        raise ConfigError(
            f"{key} = {spec.name!r}: {{{unknown[0]}}} is not filled in by batchpay; a name may "
            "hold {provider}, {network} and {currency}"
        )
    return spec


def valuation(
    values: Mapping[str, Any], rates: Path | None, fail: Callable[[str, object, str], Exception]
) -> dict[str, Any]:
    """Settings fields for home-currency valuation: ``reporting_currency`` (upper-case code)
    from the raw file values. ``rates`` (the CSV already resolved to a path) is read here, so
    that a bad file stops a run before it pays; raises what ``fail`` makes (ConfigError,
    exit 2) and what batchpay.report.exports.rates.load_rates raises."""
    changes: dict[str, Any] = {}
    if "reporting_currency" in values:
        value = values["reporting_currency"]
        code = value.strip() if isinstance(value, str) else ""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{1,11}", code):
            raise fail("reporting_currency", value, 'write a currency code, e.g. "EUR"')
        changes["reporting_currency"] = code.upper()
    if rates is not None:
        from batchpay.report.exports.rates import load_rates

        if "reporting_currency" not in changes:
            raise fail("rates", values["rates"], 'set reporting_currency too (e.g. "EUR")')
        load_rates(rates, changes["reporting_currency"])
    return changes
