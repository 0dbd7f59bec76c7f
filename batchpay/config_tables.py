"""The ``[review]`` and ``[balance]`` tables of ``batchpay.toml`` (four eyes, issue #14).

```toml
[review]
amount_change = "0.2"    # a payee's amount changed by more than 20 % raises an alarm

[balance]
check = true             # check the provider balance before sending (every provider)
[balance.thedex]
check = false            # ... or per provider
```

Kept apart from :mod:`batchpay.config` (which calls :func:`extra_tables`) so that module
stays within the house size; it needs nothing from it but two callables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from batchpay import registry
from batchpay.resources import load_schema_file

EXTRA_TABLES = ("review", "balance")

Fail = Callable[[str, object, str], Exception]  # (key, value, what is allowed) -> the error
KnownProvider = Callable[[str, str], str]  # (table, name) -> name, or raises


def extra_tables(values: Mapping[str, Any], fail: Fail, provider: KnownProvider) -> dict[str, Any]:
    """Settings fields from the raw tables: ``review_amount_change`` and ``balance_checks``."""
    changes: dict[str, Any] = {}
    review = dict(values.get("review", {}))
    for key in sorted(set(review) - {"amount_change"}):
        raise fail(f"review.{key}", review[key], "[review] takes amount_change")
    if "amount_change" in review:
        changes["review_amount_change"] = _share(review["amount_change"], fail)
    if values.get("balance"):
        changes["balance_checks"] = _balance(dict(values["balance"]), fail, provider)
    return changes


def _share(value: object, fail: Fail) -> Decimal:
    allowed = 'write a share as a string, e.g. amount_change = "0.2" for 20 %'
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise fail("review.amount_change", value, allowed)
    try:
        share = Decimal(str(value).strip())
    except InvalidOperation:
        raise fail("review.amount_change", value, allowed) from None
    if not share.is_finite() or share < 0:
        raise fail("review.amount_change", value, allowed)
    return share


def _balance(table: dict[str, Any], fail: Fail, provider: KnownProvider) -> dict[str, bool]:
    checks: dict[str, bool] = {}
    if "check" in table:
        every = _flag("balance.check", table.pop("check"), fail)
        checks.update(dict.fromkeys(registry.names(), every))
    for name, sub in table.items():
        if not isinstance(sub, dict) or set(sub) - {"check"}:
            raise fail(f"balance.{name}", sub, f"write [balance.{name}] with check = true|false")
        if "check" in sub:
            checks[provider("balance", name)] = _flag(f"balance.{name}.check", sub["check"], fail)
    return checks


def _flag(key: str, value: object, fail: Fail) -> bool:
    if isinstance(value, bool):
        return value
    raise fail(key, value, "write true or false")


def network_names() -> dict[str, str]:
    """Every spelling of a network (upper case) -> its canonical name (schemas/networks.toml)."""
    names: dict[str, str] = {}
    for name, spec in load_schema_file("networks.toml").items():
        names[name.upper()] = name
        for alias in spec.get("aliases", []):
            names[str(alias).upper()] = name
    return names
