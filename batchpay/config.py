"""Explicit configuration, built once: ``batchpay.toml`` -> environment -> flags.

Secrets never live in :class:`Settings` as plain strings: they come from the environment (or an
env file the user names) and are handed out as :class:`Secret`, whose repr and str are masked.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from batchpay.errors import ConfigError
from batchpay.money import AmountError, RoundingPolicy, parse_amount

CONFIG_FILE = "batchpay.toml"
PROVIDERS = ("oxapay", "thedex", "pontis", "2328io", "sandbox")

# Requests per second; 2328.io publishes 10/s per project, the others publish nothing.
DEFAULT_RATE_LIMITS: dict[str, float] = {  # float-ok: rates, not money
    "oxapay": 5.0,
    "thedex": 5.0,
    "pontis": 5.0,
    "2328io": 10.0,
    "sandbox": 0.0,  # 0 = unlimited
}


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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read env file {path}: {exc.strerror}") from None
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
    ledger: Path = Path("batchpay-ledger.sqlite")
    report_dir: Path | None = None  # None: ./reports/<batch>/
    concurrency: int = 4
    rounding: RoundingPolicy = RoundingPolicy.DOWN
    connect_timeout: float = 5.0  # float-ok: seconds
    read_timeout: float = 30.0  # float-ok: seconds
    fee_option: str = "deduct"
    rate_limits: Mapping[str, float] = field(  # float-ok: requests per second
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS)
    )
    # provider -> canonical network -> provider code, over schemas/providers.toml
    networks: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # provider -> seconds after sending (without a key field) before "not found" may be read
    # as "never arrived"; longer than the provider's worst latency
    grace_seconds: Mapping[str, float] = field(default_factory=dict)  # float-ok: seconds
    accounts: Mapping[str, str] = field(default_factory=dict)  # journal account names
    locale: str | None = None  # the sheets' number format, e.g. de_DE
    max_amounts: Mapping[str, Decimal] = field(default_factory=dict)  # currency -> cap
    env: Environment = field(default_factory=lambda: Environment({}), repr=False, compare=False)

    def report_dir_for(self, batch: str) -> Path:
        return self.report_dir if self.report_dir is not None else Path("reports") / batch

    def rate_limit(self, provider: str) -> float:  # float-ok: requests per second
        return self.rate_limits.get(provider, 0.0)


_FILE_KEYS = {f.name for f in fields(Settings)} - {
    "accounts",
    "max_amounts",
    "env",
    "rate_limits",
    "networks",
    "grace_seconds",
}


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Build settings from the config file, then ``BATCHPAY_*`` variables, then ``overrides``.

    ``overrides`` holds flag values; ``None`` means the flag was not given.
    """
    env = Environment.load(environ)
    values: dict[str, Any] = {}
    config_path = _config_path(env, cwd or Path.cwd())
    if config_path is not None:
        values.update(_read_config_file(config_path))
    for key, var in (
        ("ledger", "BATCHPAY_LEDGER"),
        ("report_dir", "BATCHPAY_REPORT_DIR"),
        ("concurrency", "BATCHPAY_CONCURRENCY"),
        ("rounding", "BATCHPAY_ROUNDING"),
    ):
        if (value := env.get(var)) is not None:
            values[key] = value
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _build(values, env)


def _config_path(env: Environment, cwd: Path) -> Path | None:
    named = env.get("BATCHPAY_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"BATCHPAY_CONFIG names {path}, which is not a file")
        return path
    candidate = cwd / CONFIG_FILE
    return candidate if candidate.is_file() else None


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    rate_limit = data.pop("rate_limit", {})
    max_amount = data.pop("max_amount", {})
    accounts = data.pop("accounts", {})
    if not isinstance(accounts, dict) or set(accounts) - {"expense", "fees", "provider"}:
        raise ConfigError(f"{path}: [accounts] takes expense, fees and provider names")
    if not isinstance(max_amount, dict) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in max_amount.values()
    ):
        raise ConfigError(
            f'{path}: [max_amount] maps CURRENCY = "amount" (write amounts as strings)'
        )
    networks = data.pop("networks", {})
    grace = data.pop("grace_seconds", {})
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(unknown)}")
    if not isinstance(rate_limit, dict):
        raise ConfigError(f"{path}: [rate_limit] must be a table of provider = requests per second")
    if not isinstance(networks, dict) or not all(isinstance(v, dict) for v in networks.values()):
        raise ConfigError(f"{path}: [networks.<provider>] tables map NETWORK = provider code")
    if not isinstance(grace, dict):
        raise ConfigError(f"{path}: [grace_seconds] must be a table of provider = seconds")
    data["rate_limits"] = rate_limit
    data["max_amounts"] = max_amount
    data["accounts"] = accounts
    data["networks"] = networks
    data["grace_seconds"] = grace
    return data


def _build(values: Mapping[str, Any], env: Environment) -> Settings:
    settings = Settings(env=env)
    try:
        rate_limits = dict(DEFAULT_RATE_LIMITS)
        for name, rate in dict(values.get("rate_limits", {})).items():
            if name not in PROVIDERS:
                raise ConfigError(f"rate_limit: unknown provider {name!r}")
            rate_limits[name] = _non_negative(float(rate), f"rate_limit.{name}")  # float-ok
        changes: dict[str, Any] = {"rate_limits": rate_limits}
        for table in ("networks", "grace_seconds"):
            for name in dict(values.get(table, {})):
                if name not in PROVIDERS:
                    raise ConfigError(f"{table}: unknown provider {name!r}")
        changes["networks"] = {
            k: {str(n).upper(): str(c) for n, c in v.items()}
            for k, v in dict(values.get("networks", {})).items()
        }
        changes["grace_seconds"] = {
            k: _non_negative(float(v), f"grace_seconds.{k}")  # float-ok: seconds
            for k, v in dict(values.get("grace_seconds", {})).items()
        }
        if "ledger" in values:
            changes["ledger"] = Path(values["ledger"])
        if "report_dir" in values:
            changes["report_dir"] = Path(values["report_dir"])
        if "concurrency" in values:
            changes["concurrency"] = int(values["concurrency"])
            if not 1 <= changes["concurrency"] <= 64:
                raise ConfigError("concurrency must be between 1 and 64")
        if "rounding" in values:
            changes["rounding"] = RoundingPolicy(str(values["rounding"]))
        for key in ("connect_timeout", "read_timeout"):
            if key in values:
                changes[key] = _non_negative(float(values[key]), key)  # float-ok: seconds
        if "accounts" in values:
            changes["accounts"] = {str(k): str(v) for k, v in dict(values["accounts"]).items()}
        if "locale" in values:
            changes["locale"] = str(values["locale"])
        if "max_amounts" in values:
            changes["max_amounts"] = {
                str(k).upper(): parse_amount(str(v)) for k, v in dict(values["max_amounts"]).items()
            }
        if "fee_option" in values:
            if values["fee_option"] not in ("deduct", "add"):
                raise ConfigError("fee_option must be 'deduct' or 'add'")
            changes["fee_option"] = values["fee_option"]
    except (ValueError, AmountError) as exc:
        raise ConfigError(f"bad setting: {exc}") from None
    return replace(settings, **changes)


def _non_negative(value: float, name: str) -> float:  # float-ok: seconds and rates
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value
