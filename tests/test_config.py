from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path

import pytest

from batchpay.config import Environment, Secret, load_settings
from batchpay.errors import ConfigError
from batchpay.money import RoundingPolicy


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    (tmp_path / "batchpay.toml").write_text(
        'ledger = "from-file.sqlite"\nconcurrency = 2\nrounding = "half_even"\n'
        "[rate_limit]\noxapay = 3\n"
    )
    env = {"BATCHPAY_CONCURRENCY": "6"}
    settings = load_settings({"concurrency": 8, "ledger": None}, environ=env, cwd=tmp_path)
    assert settings.ledger == Path("from-file.sqlite")  # file (flag not given)
    assert settings.rounding is RoundingPolicy.HALF_EVEN
    assert settings.concurrency == 8  # flag beats env beats file
    assert settings.rate_limit("oxapay") == 3.0
    assert settings.rate_limit("2328io") == 10.0  # published default kept
    assert load_settings(None, environ=env, cwd=tmp_path).concurrency == 6


def test_config_named_by_environment_and_unknown_keys_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text("concurency = 3\n")
    with pytest.raises(ConfigError, match="concurency"):
        load_settings(environ={"BATCHPAY_CONFIG": str(cfg)}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="not a file"):
        load_settings(environ={"BATCHPAY_CONFIG": str(tmp_path / "missing.toml")}, cwd=tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "concurrency = 0",
        'rounding = "up"',
        'fee_option = "x"',
        "[rate_limit]\nnope = 1",
        "read_timeout = -1",
        "x = [",
    ],
)
def test_bad_settings_are_config_errors(tmp_path: Path, text: str) -> None:
    (tmp_path / "batchpay.toml").write_text(text + "\n")
    with pytest.raises(ConfigError):
        load_settings(environ={}, cwd=tmp_path)


def test_secret_is_masked_everywhere() -> None:
    secret = Secret("sk_live_canary_123")
    for shown in (repr(secret), str(secret), f"{secret}", repr([secret]), repr({"k": secret})):
        assert "canary" not in shown
    assert secret.reveal() == "sk_live_canary_123"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_environment_reads_env_file_and_real_env_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        '# creds\nexport BATCHPAY_OXAPAY_PAYOUT_API_KEY="from-file"\n'
        "BATCHPAY_THEDEX_API_KEY=file-key\n"
    )
    env = Environment.load(
        {"BATCHPAY_ENV_FILE": str(env_file), "BATCHPAY_THEDEX_API_KEY": "real-env"}
    )
    assert env.secret("BATCHPAY_OXAPAY_PAYOUT_API_KEY").reveal() == "from-file"
    assert env.secret("BATCHPAY_THEDEX_API_KEY").reveal() == "real-env"
    assert "from-file" not in repr(env) and "real-env" not in repr(env)
    with pytest.raises(ConfigError, match="BATCHPAY_PONTIS_API_KEY"):
        env.secret("BATCHPAY_PONTIS_API_KEY")


def test_malformed_env_file_is_a_config_error(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("JUST_A_NAME\n")
    with pytest.raises(ConfigError, match=":1"):
        Environment.load({"BATCHPAY_ENV_FILE": str(env_file)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('rounding = "round_down"', "rounding = 'round_down' is not allowed; use one of: down, "),
        ('concurrency = "abc"', "concurrency = 'abc' is not allowed; use a whole number from 1"),
        ("concurrency = 2.5", "concurrency = 2.5 is not allowed; use a whole number from 1 to 64"),
        ("concurrency = true", "concurrency = True is not allowed; use a whole number"),
        ("concurrency = 65", "concurrency = 65 is not allowed; use a whole number from 1 to 64"),
        ('read_timeout = "soon"', "read_timeout = 'soon' is not allowed; use a number of seconds"),
        ('connect_timeout = "nan"', "connect_timeout = 'nan' is not allowed"),
        ("connect_timeout = 0", "connect_timeout = 0 is not allowed; use a number of seconds"),
        (
            "ledger = 5",
            "ledger = 5 is not allowed; write a file path or a postgresql:// URL as a string",
        ),
        ('report_dir = ""', "report_dir = '' is not allowed"),
        ('fee_option = "x"', "fee_option = 'x' is not allowed; use one of: deduct, add"),
        ('locale = "xx_XX"', "locale = 'xx_XX' is not allowed; use one of: de_CH, de_DE"),
        (
            '[rate_limit]\noxapay = "fast"',
            "rate_limit.oxapay = 'fast' is not allowed; use requests",
        ),
        ("[rate_limit]\nnope = 1", "[rate_limit] names unknown provider 'nope'; providers: oxapay"),
        ("[grace_seconds]\noxapay = -1", "grace_seconds.oxapay = -1 is not allowed"),
        ('[networks.oxapay]\nTRONN = "x"', "'TRONN' is not a network; use one of: ARBITRUM"),
        ("[networks.oxapay]\nTRON = 5", "networks.oxapay.TRON = 5 is not allowed"),
        ('[max_amount]\nUSDT = "1,5"', "max_amount.USDT = '1,5' is not allowed"),
        ("[max_amount]\nUSDT = 1.5", "write the amount as a string"),
        ('[accounts]\ncash = "x"', "[accounts] has no 'cash'; it takes expense, fees, provider"),
        ("rate_limit = 5", "rate_limit must be a table"),
        ("colour = 1", "unknown setting(s): colour; known: accounts, concurrency"),
    ],
)
def test_config_errors_name_the_key_and_the_allowed_values(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "batchpay.toml").write_text(text + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(environ={}, cwd=tmp_path)
    message = str(error.value)
    assert expected in message, message
    assert str(tmp_path / "batchpay.toml") in message or "unknown setting" in message
    for leak in ("is not a valid RoundingPolicy", "invalid literal", "could not convert"):
        assert leak not in message


def test_an_environment_value_names_its_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"BATCHPAY_CONCURRENCY": "four"}, cwd=tmp_path)
    assert str(error.value).startswith("environment variable BATCHPAY_CONCURRENCY: concurrency")
    with pytest.raises(ConfigError, match=r"^--rounding: rounding = 'up'"):
        load_settings({"rounding": "up"}, environ={}, cwd=tmp_path)


def test_good_tables_are_read(tmp_path: Path) -> None:
    (tmp_path / "batchpay.toml").write_text(
        'locale = "de_DE"\n[networks.oxapay]\ntrc20 = "Tron Network"\n'
        '[max_amount]\nusdt = "50000"\n[accounts]\nfees = "6100 Fees"\n'
        "[grace_seconds]\nthedex = 1200\n"
    )
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.networks == {"oxapay": {"TRON": "Tron Network"}}
    assert settings.max_amounts == {"USDT": Decimal("50000")}
    assert settings.accounts == {"fees": "6100 Fees"}
    assert settings.grace_seconds == {"thedex": 1200.0}
    assert settings.locale == "de_DE"
