"""Provider balances: reading the balance calls the providers publish, and asking any adapter.

Which providers publish one (checked before the first payout by default where confirmed, see
:mod:`batchpay.send.balance`):

- OxaPay: ``GET /general/account/balance`` (v1, "Account Balance" in its API reference),
  authorised by the *General* API key (``BATCHPAY_OXAPAY_GENERAL_API_KEY``), answering
  ``{"data": {"USDT": 1250.5, ...}, "status": 200}``;
- 2328.io: ``GET /v1/balance``, signed like every call, answering
  ``{"state": 0, "result": [{"currency_code": "USDT", "balance": "1250.50", ...}]}``
  (published in its documentation, not in the seed this project started from: off unless
  ``[balance.2328io] check = true``);
- the sandbox: a balance per currency from ``BATCHPAY_SANDBOX_BALANCE``.

TheDex documents ``POST /api/v1/balances`` keyed by its own pay currencies (a currency *and*
a network) in a shape its pages do not pin down, and PontisGlobe publishes none that this
project could confirm: their adapters have no balance call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from batchpay.providers.base import Balances
from batchpay.providers.boundary import Failure, Reply


def balances_of(provider: object, limited: Callable[[Callable[[], Any]], Any]) -> Balances | None:
    """The provider's balances (asked through ``limited``, the engine's rate limit), or None
    when its adapter has no balance call. An adapter that raises is "not known", never an
    escape: the balance check must not stop a payroll because the balance call is down."""
    method = getattr(provider, "balances", None)
    if method is None:
        return None
    try:
        found = limited(method)
    except Exception as exc:  # the adapter's own failure: the balance is not known
        return Balances(None, f"the balance call failed ({type(exc).__name__})")
    return found if isinstance(found, Balances) else Balances(None, "no answer")


def amounts(entries: Iterable[tuple[object, object]]) -> dict[str, Decimal] | None:
    """currency -> amount from (currency, amount) pairs; None if any amount is not a finite
    number of zero or more (an answer half understood is not known: never "enough")."""
    found: dict[str, Decimal] = {}
    for currency, value in entries:
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
            return None
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        if not amount.is_finite() or amount < 0:  # NaN, Infinity, a negative: not understood
            return None
        key = str(currency).strip().upper()
        found[key] = found.get(key, Decimal(0)) + amount
    return found


def unreadable(reply: Reply | Failure) -> Balances:
    """Why a balance answer tells nothing."""
    if isinstance(reply, Failure):
        return Balances(None, f"the balance call did not finish ({reply.code})")
    return Balances(None, f"the balance call answered HTTP {reply.status_code} with no balances")


def oxapay_balances(reply: Reply | Failure) -> Balances:
    if isinstance(reply, Reply) and reply.status_code == 200 and isinstance(reply.data, dict):
        data = reply.data.get("data")
        if reply.data.get("status") in (200, None) and isinstance(data, dict):
            found = amounts(data.items())
            if found is not None:
                return Balances(found)
    return unreadable(reply)


def pay2328_balances(reply: Reply | Failure) -> Balances:
    if isinstance(reply, Reply) and reply.status_code == 200 and isinstance(reply.data, dict):
        result = reply.data.get("result")
        if reply.data.get("state") == 0 and isinstance(result, list):
            accounts = [a for a in result if isinstance(a, dict)]
            active = [a for a in accounts if a.get("status", "active") == "active"]
            found = amounts((a.get("currency_code"), a.get("balance")) for a in active)
            if found is not None and len(accounts) == len(result):
                return Balances(found)
    return unreadable(reply)


def sandbox_balance(text: str | None) -> dict[str, Decimal] | None:
    """``BATCHPAY_SANDBOX_BALANCE`` (``USDT=100,BTC=0.5``) -> currency -> amount; None when
    unset (the sandbox then holds more than any test sends). Raises ValueError when bad."""
    if text is None or not text.strip():
        return None
    pairs = []
    for part in text.split(","):
        currency, sep, value = part.partition("=")
        if not sep or not currency.strip():
            raise ValueError(part)
        pairs.append((currency, value))
    found = amounts(pairs)
    if found is None:
        raise ValueError(text)
    return found
