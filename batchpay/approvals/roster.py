"""The approvers file: who may prepare and approve a batch, their public keys, and how many
approvals a batch needs (CONTRACT.md, "Approvals"). In the spirit of OpenSSH's allowed-signers
file: a key not in it counts for nothing. A person may be listed once per key (for example a
command-line key and a web key, under the same name and role); they still count once.

    [[approver]]
    name = "Alice Finance"
    role = "preparer"            # preparer | approver (an approver may also prepare)
    key = "ssh-ed25519 AAAAC3Nza... alice@example"

    [policy]
    approvals = 1
    [[policy.above]]
    currency = "USDT"
    total = "50000"
    approvals = 2
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from batchpay.approvals.keys import fingerprint, parse_public_key
from batchpay.errors import ConfigError
from batchpay.money import AmountError, parse_amount

ROLES = ("preparer", "approver")
MAX_APPROVALS = 20


@dataclass(frozen=True)
class Approver:
    name: str
    role: str  # preparer | approver
    key: Ed25519PublicKey
    fingerprint: str

    @property
    def may_approve(self) -> bool:
        return self.role == "approver"


@dataclass(frozen=True)
class Threshold:
    """More approvals for a batch whose total in ``currency`` is above ``total``."""

    currency: str
    total: Decimal
    approvals: int


@dataclass(frozen=True)
class Policy:
    approvals: int = 1
    above: tuple[Threshold, ...] = ()

    def required(
        self,
        totals: Mapping[str, Decimal],
        reporting: str | None = None,
        rates: Mapping[str, Decimal] | None = None,
    ) -> int:
        """Approvals a batch needs: the largest over the base rule and every threshold its
        total (to send, per currency) is above. A threshold in the ``reporting`` currency
        compares the whole batch valued in it at ``rates`` (units of reporting currency per
        unit); a currency without a rate makes such a threshold apply (never fewer
        approvals for want of a rate)."""
        needed = [self.approvals]
        for t in self.above:
            if t.currency == reporting and set(totals) - {t.currency}:
                value = _valued(totals, t.currency, rates or {})
                if value is None or value > t.total:
                    needed.append(t.approvals)
            elif totals.get(t.currency, Decimal(0)) > t.total:
                needed.append(t.approvals)
        return max(needed)


def _valued(
    totals: Mapping[str, Decimal], reporting: str, rates: Mapping[str, Decimal]
) -> Decimal | None:
    """The totals in ``reporting`` currency; None when a currency has no rate."""
    value = Decimal(0)
    for currency, amount in totals.items():
        rate = Decimal(1) if currency == reporting else rates.get(currency)
        if rate is None:
            return None
        value += amount * rate
    return value


@dataclass(frozen=True)
class Roster:
    path: Path
    approvers: tuple[Approver, ...]
    policy: Policy
    reporting: str | None = None  # batchpay.toml's reporting_currency
    rates: Mapping[str, Decimal] | None = None  # its latest rate per currency, if a rates file

    def required(self, totals: Mapping[str, Decimal]) -> int:
        """Approvals a batch with ``totals`` (to send, per currency) needs."""
        return self.policy.required(totals, self.reporting, self.rates)

    def by_fingerprint(self, fp: str) -> Approver | None:
        return next((a for a in self.approvers if a.fingerprint == fp), None)


def load_roster(path: Path) -> Roster:
    """Read and check the approvers file; raises ConfigError (exit 2) naming the file, the
    entry and what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the approvers file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the approvers file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"approver", "policy"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown table(s) {', '.join(unknown)}; use [[approver]], [policy]"
        )
    entries = data.get("approver", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: list each person as an [[approver]] table")
    approvers = tuple(_approver(path, i, e) for i, e in enumerate(entries, start=1))
    keys = [a.fingerprint for a in approvers]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ConfigError(f"{path}: the same key is listed twice: {', '.join(twice)}")
    roles: dict[str, str] = {}
    for a in approvers:  # one person may list several keys (say, a CLI key and a web key)
        if roles.setdefault(a.name, a.role) != a.role:
            raise ConfigError(
                f"{path}: {a.name} is listed as both {roles[a.name]} and {a.role}; "
                "give each of a person's keys the same role"
            )
    return Roster(path, approvers, _policy(path, data.get("policy", {})))


def _approver(path: Path, number: int, entry: Any) -> Approver:
    where = f"{path}: [[approver]] {number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table")
    extra = sorted(set(entry) - {"name", "role", "key"})
    if extra:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(extra)}; use name, role, key")
    name, role, line = entry.get("name"), entry.get("role"), entry.get("key")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name must be a non-empty string")
    if role not in ROLES:
        raise ConfigError(f"{where} ({name}): role = {role!r}; use one of: {', '.join(ROLES)}")
    if not isinstance(line, str):
        raise ConfigError(f'{where} ({name}): key must be a string "ssh-ed25519 AAAA... comment"')
    try:
        key = parse_public_key(line)
    except ValueError as exc:
        raise ConfigError(f"{where} ({name}): {exc}") from None
    return Approver(name.strip(), str(role), key, fingerprint(key))


def _policy(path: Path, table: Any) -> Policy:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [policy] must be a table")
    extra = sorted(set(table) - {"approvals", "above"})
    if extra:
        raise ConfigError(f"{path}: [policy] has unknown field(s) {', '.join(extra)}")
    base = _count(path, "[policy] approvals", table.get("approvals", 1))
    rules = table.get("above", [])
    if not isinstance(rules, list):
        raise ConfigError(f"{path}: list thresholds as [[policy.above]] tables")
    return Policy(base, tuple(_threshold(path, i, r) for i, r in enumerate(rules, start=1)))


def _threshold(path: Path, number: int, rule: Any) -> Threshold:
    where = f"[[policy.above]] {number}"
    if not isinstance(rule, dict) or set(rule) != {"currency", "total", "approvals"}:
        raise ConfigError(f"{path}: {where} takes currency, total and approvals")
    currency, total = rule["currency"], rule["total"]
    if not isinstance(currency, str) or not currency.strip():
        raise ConfigError(f"{path}: {where}: currency must be a code such as USDT")
    if isinstance(total, bool) or not isinstance(total, str | int):
        raise ConfigError(f'{path}: {where}: write total as a string, e.g. total = "50000"')
    try:
        amount = parse_amount(str(total))
    except AmountError as exc:
        raise ConfigError(f"{path}: {where}: total {total!r}: {exc}") from None
    return Threshold(currency.strip().upper(), amount, _count(path, where, rule["approvals"]))


def _count(path: Path, where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_APPROVALS:
        raise ConfigError(f"{path}: {where}: approvals = {value!r}; use 0 to {MAX_APPROVALS}")
    return value
