"""Explicit configuration, built once: ``batchpay.toml`` -> environment -> flags.

Secrets never live in :class:`Settings` as plain strings: they come from the environment (or an
env file the user names) and are handed out as :class:`Secret`, whose repr and str are masked.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from batchpay import registry
from batchpay.accounts import AccountMap, parse_accounts, valuation
from batchpay.config_tables import EXTRA_TABLES, extra_tables, network_names
from batchpay.errors import ConfigError
from batchpay.ledger.location import LedgerUrl, Location, parse_location
from batchpay.money import AmountError, RoundingPolicy, parse_amount
from batchpay.resources import load_schema_file

CONFIG_FILE = "batchpay.toml"
# The built-in providers, from the registry; the checks below ask the registry itself, so a
# provider registered later is known too.
PROVIDERS = registry.names()
FEE_OPTIONS = ("deduct", "add")


class Secret:
    """A credential. Only :meth:`reveal` gives the value; everything else prints ``****``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


class Environment:
    """The process environment merged over an optional env file; repr shows names only."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Environment:
        environ = dict(os.environ if environ is None else environ)
        merged: dict[str, str] = {}
        env_file = environ.get("BATCHPAY_ENV_FILE")
        if env_file:
            merged.update(read_env_file(Path(env_file)))
        merged.update(environ)
        return cls(merged)

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self._values.get(name)
        return value if value not in (None, "") else default

    def secret(self, name: str) -> Secret:
        value = self.get(name)
        if value is None:
            raise ConfigError(f"missing credential: set the environment variable {name}")
        return Secret(value)

    def __repr__(self) -> str:
        names = sorted(n for n in self._values if n.startswith("BATCHPAY_"))
        return f"Environment({names})"


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines (``#`` comments, optional quotes, optional ``export``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read env file {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # never echo the bytes: they may be a secret's
        bad_line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"cannot read env file {path}: line {bad_line} is not UTF-8 text; save it as UTF-8"
        ) from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{path}:{number}: expected NAME=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


@dataclass(frozen=True)
class Settings:
    ledger: Location = Path("batchpay-ledger.sqlite")  # a file, or a postgresql:// URL
    report_dir: Path | None = None  # None: ./reports/<batch>/
    concurrency: int = 4
    rounding: RoundingPolicy = RoundingPolicy.DOWN
    connect_timeout: float = 5.0  # float-ok: seconds
    read_timeout: float = 30.0  # float-ok: seconds
    fee_option: str = "deduct"
    rate_limits: Mapping[str, float] = field(  # float-ok: requests per second
        default_factory=registry.rate_limits
    )
    # provider -> canonical network -> provider code, over schemas/providers.toml
    networks: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # provider -> seconds after sending (without a key field) before "not found" may be read
    # as "never arrived"; longer than the provider's worst latency
    grace_seconds: Mapping[str, float] = field(default_factory=dict)  # float-ok: seconds
    accounts: Mapping[str, str] = field(default_factory=dict)  # journal.csv account names
    # the exports' accounts per provider, network and currency (batchpay.accounts)
    account_map: AccountMap = field(default_factory=AccountMap)
    reporting_currency: str | None = None  # value completed payouts in this currency
    rates: Path | None = None  # CSV date,currency,rate (batchpay.report.exports.rates)
    locale: str | None = None  # the sheets' number format, e.g. de_DE
    max_amounts: Mapping[str, Decimal] = field(default_factory=dict)  # currency -> cap
    approvers: Path | None = None  # the approvers file: four eyes on (batchpay.approvals)
    # [review] amount_change: the share of change in a payee's amount that raises an alarm
    review_amount_change: Decimal = Decimal("0.2")
    # [balance]: provider -> check its balance before sending (batchpay.send.balance)
    balance_checks: Mapping[str, bool] = field(default_factory=dict)
    env: Environment = field(default_factory=lambda: Environment({}), repr=False, compare=False)

    def report_dir_for(self, batch: str) -> Path:
        return self.report_dir if self.report_dir is not None else Path("reports") / batch

    def rate_limit(self, provider: str) -> float:  # float-ok: requests per second
        return self.rate_limits.get(provider, 0.0)


_FILE_KEYS = {f.name for f in fields(Settings)} - {
    "accounts",
    "account_map",
    "max_amounts",
    "env",
    "rate_limits",
    "networks",
    "grace_seconds",
    "review_amount_change",
    "balance_checks",
}


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Build settings from the config file, then ``BATCHPAY_*`` variables, then ``overrides``.

    ``overrides`` holds flag values; ``None`` means the flag was not given. A value that is
    not allowed is a :class:`ConfigError` naming the setting, where it came from, and what
    it may be.
    """
    env = Environment.load(environ)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    config_path = _config_path(env, cwd or Path.cwd())
    if config_path is not None:
        values.update(_read_config_file(config_path))
        if isinstance(values.get("approvers"), str):  # relative to the file that names it
            values["approvers"] = config_path.parent / values["approvers"]
        origins.update({key: str(config_path) for key in values})
    for key, var in ENV_SETTINGS.items():
        if (value := env.get(var)) is not None:
            values[key] = value
            origins[key] = f"environment variable {var}"
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
            origins[key] = f"--{key.replace('_', '-')}"
    return _build(values, origins, env)


ENV_SETTINGS = {
    "ledger": "BATCHPAY_LEDGER",
    "report_dir": "BATCHPAY_REPORT_DIR",
    "concurrency": "BATCHPAY_CONCURRENCY",
    "rounding": "BATCHPAY_ROUNDING",
}


def _config_path(env: Environment, cwd: Path) -> Path | None:
    named = env.get("BATCHPAY_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"BATCHPAY_CONFIG names {path}, which is not a file")
        return path
    candidate = cwd / CONFIG_FILE
    return candidate if candidate.is_file() else None


_TABLES = ("rate_limit", "max_amount", "accounts", "networks", "grace_seconds", *EXTRA_TABLES)


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    tables = {name: data.pop(name, {}) for name in _TABLES}
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        known = ", ".join(sorted(_FILE_KEYS | set(_TABLES)))
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(unknown)}; known: {known}")
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {name} must be a table ([{name}]), not {table!r}")
    if not all(isinstance(v, dict) for v in tables["networks"].values()):
        raise ConfigError(f"{path}: [networks.<provider>] tables map NETWORK = provider code")
    data["rate_limits"] = tables["rate_limit"]
    data["max_amounts"] = tables["max_amount"]
    data["accounts"] = tables["accounts"]
    data["networks"] = tables["networks"]
    data["grace_seconds"] = tables["grace_seconds"]
    data.update({name: tables[name] for name in EXTRA_TABLES})
    return data


class _Checker:
    """Turns raw setting values into typed ones, or a ConfigError that names the setting,
    where it was set, the value, and what is allowed."""

    def __init__(self, origins: Mapping[str, str]) -> None:
        self.origins = origins

    def where(self, key: str) -> str:
        top = key.split(".", 1)[0]
        top = {"rate_limit": "rate_limits", "max_amount": "max_amounts"}.get(top, top)
        return self.origins.get(top, CONFIG_FILE)

    def fail(self, key: str, value: object, allowed: str) -> ConfigError:
        return ConfigError(f"{self.where(key)}: {key} = {value!r} is not allowed; {allowed}")

    def location(self, key: str, value: object) -> str:
        if isinstance(value, str) and value.strip():
            return value
        raise self.fail(key, value, "write a file path or a postgresql:// URL as a string")

    def path(self, key: str, value: object) -> Path:
        if isinstance(value, Path) or (isinstance(value, str) and value.strip()):
            return Path(value)
        raise self.fail(key, value, "write a file or folder path as a string")

    def whole(self, key: str, value: object, low: int, high: int) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
            number = int(value.strip())
        if number is None or not low <= number <= high:
            raise self.fail(key, value, f"use a whole number from {low} to {high}")
        return number

    def seconds(self, key: str, value: object, allowed: str, zero_ok: bool) -> float:  # float-ok
        number: float | None = None  # float-ok: seconds and rates, never money
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                number = float(value)  # float-ok
            except ValueError:
                number = None
        if (
            number is None
            or not math.isfinite(number)
            or number < 0
            or (number == 0 and not zero_ok)
        ):
            raise self.fail(key, value, allowed)
        return number

    def choice(self, key: str, value: object, allowed: Sequence[str]) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        raise self.fail(key, value, f"use one of: {', '.join(allowed)}")

    def text(self, key: str, value: object, allowed: str) -> str:
        if isinstance(value, str) and value.strip():
            return value
        raise self.fail(key, value, allowed)

    def provider(self, table: str, name: str) -> str:
        if name in registry.names():
            return name
        raise ConfigError(
            f"{self.where(table)}: [{table}] names unknown provider {name!r}; "
            f"providers: {', '.join(registry.names())}"
        )


def _build(values: Mapping[str, Any], origins: Mapping[str, str], env: Environment) -> Settings:
    check = _Checker(origins)
    changes: dict[str, Any] = {}
    if "ledger" in values:
        raw = values["ledger"]
        changes["ledger"] = (
            raw
            if isinstance(raw, Path | LedgerUrl)
            else parse_location(check.location("ledger", raw))
        )
    for key in ("report_dir", "rates", "approvers"):
        if key in values:
            changes[key] = check.path(key, values[key])
    if "concurrency" in values:
        changes["concurrency"] = check.whole("concurrency", values["concurrency"], 1, 64)
    if "rounding" in values:
        policies = [p.value for p in RoundingPolicy]
        changes["rounding"] = RoundingPolicy(check.choice("rounding", values["rounding"], policies))
    for key in ("connect_timeout", "read_timeout"):
        if key in values:
            changes[key] = check.seconds(key, values[key], "use a number of seconds above 0", False)
    if "fee_option" in values:
        changes["fee_option"] = check.choice("fee_option", values["fee_option"], FEE_OPTIONS)
    if "locale" in values:
        locales = sorted(load_schema_file("locales.toml"))
        changes["locale"] = check.choice("locale", values["locale"], locales)
    if "accounts" in values:
        changes["accounts"], changes["account_map"] = parse_accounts(
            dict(values["accounts"]), check.where("accounts"), registry.names(), network_names()
        )
    changes.update(valuation(values, changes.get("rates"), check.fail))
    if "max_amounts" in values:
        changes["max_amounts"] = _max_amounts(check, dict(values["max_amounts"]))
    changes.update(_provider_tables(check, values))
    changes.update(extra_tables(values, check.fail, check.provider))
    return replace(Settings(env=env), **changes)


def _max_amounts(check: _Checker, table: dict[str, Any]) -> dict[str, Decimal]:
    caps = {}
    for currency, value in table.items():
        key = f"max_amount.{currency}"
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise check.fail(key, value, 'write the amount as a string, e.g. USDT = "50000"')
        try:
            caps[str(currency).upper()] = parse_amount(str(value))
        except AmountError as exc:
            raise check.fail(key, value, f"{exc}; write a plain positive amount") from None
    return caps


def _provider_tables(check: _Checker, values: Mapping[str, Any]) -> dict[str, Any]:
    rate_limits = registry.rate_limits()
    for name, rate in dict(values.get("rate_limits", {})).items():
        rate_limits[check.provider("rate_limit", name)] = check.seconds(
            f"rate_limit.{name}", rate, "use requests per second, 0 or more (0: unlimited)", True
        )
    grace = {
        check.provider("grace_seconds", name): check.seconds(
            f"grace_seconds.{name}", value, "use a number of seconds, 0 or more", True
        )
        for name, value in dict(values.get("grace_seconds", {})).items()
    }
    known = network_names()
    networks: dict[str, dict[str, str]] = {}
    for name, table in dict(values.get("networks", {})).items():
        codes = networks.setdefault(check.provider("networks", name), {})
        for network, code in dict(table).items():
            key = f"networks.{name}.{network}"
            canonical = known.get(str(network).upper())
            if canonical is None:
                raise check.fail(
                    key,
                    code,
                    f"{network!r} is not a network; use one of: "
                    f"{', '.join(sorted(set(known.values())))}",
                )
            codes[canonical] = check.text(key, code, "write the provider's code as a string")
    return {"rate_limits": rate_limits, "grace_seconds": grace, "networks": networks}

