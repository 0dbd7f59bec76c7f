"""The [review] and [balance] tables of batchpay.toml."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from batchpay.config import Settings, load_settings
from batchpay.errors import ConfigError


def _load(tmp_path: Path, text: str) -> Settings:
    (tmp_path / "batchpay.toml").write_text(text, encoding="utf-8")
    return load_settings(environ={}, cwd=tmp_path)


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.review_amount_change == Decimal("0.2")
    assert dict(settings.balance_checks) == {}


def test_review_share_and_balance_switches(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        '[review]\namount_change = "0.35"\n'
        "[balance]\ncheck = false\n[balance.thedex]\ncheck = true\n",
    )
    assert settings.review_amount_change == Decimal("0.35")
    checks = settings.balance_checks
    assert checks["thedex"] is True and checks["oxapay"] is False and checks["sandbox"] is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[review]\namount_change = 0.2", "review.amount_change = 0.2 is not allowed"),
        ('[review]\namount_change = "-1"', "write a share as a string"),
        ('[review]\nshare = "0.1"', "[review] takes amount_change"),
        ('[balance]\ncheck = "yes"', "balance.check = 'yes' is not allowed; write true or false"),
        ("[balance.nowhere]\ncheck = true", "[balance] names unknown provider 'nowhere'"),
        ("[balance.oxapay]\ncheck = true\nlimit = 1", "with check = true|false"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)
