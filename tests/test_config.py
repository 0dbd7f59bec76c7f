from __future__ import annotations

import pickle
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
