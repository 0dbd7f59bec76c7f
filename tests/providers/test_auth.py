"""The adapters sign through httpx.Auth flows on their clients: no credential in any repr, and
PontisGlobe's log-in (refused, failed, or with unusable secrets) ends as it always did."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from batchpay.config import Secret, load_settings
from batchpay.emulator import Emulator, Fault
from batchpay.emulator.pontis import EmuPontis
from batchpay.model import RowStatus
from batchpay.plan import KeyForm, attempt_key
from batchpay.providers import open_provider
from batchpay.providers.auth import OxaPayAuth, Pay2328Auth, PontisAuth, TheDexAuth
from batchpay.providers.base import Disposition, PayoutRequest
from tests.conftest import TRON

CANARY = "canary-c4n4ry-secret"
PONTIS_EXTRA = {
    "country_code": "PH",
    "payout_currency": "PHP",
    "payment_method": "bank_local",
    "recipient_name": "Juan",
}


def _auths() -> list[httpx.Auth]:
    secret = Secret(CANARY)
    return [
        OxaPayAuth(secret),
        TheDexAuth(secret, secret),
        Pay2328Auth(secret, secret),
        PontisAuth(secret, secret, secret, secret, secret, "http://x/login"),
    ]


@pytest.mark.parametrize("auth", _auths(), ids=lambda a: type(a).__name__)
def test_no_auth_repr_shows_a_credential(auth: httpx.Auth) -> None:
    assert CANARY not in repr(auth) and CANARY not in str(auth)
    assert repr(auth) == f"{type(auth).__name__}(****)"
    assert CANARY not in repr(vars(auth))  # its fields are Secrets, masked too


@pytest.mark.parametrize("name", ["oxapay", "thedex", "pontis", "2328io"])
def test_every_adapter_signs_through_a_masked_auth(name: str) -> None:
    emulator = Emulator()
    env = {k: (CANARY if "KEY" in k or "SECRET" in k else v) for k, v in emulator.env().items()}
    adapter: Any = open_provider(name, load_settings(environ=env), transport=emulator.transport())
    auth = adapter.client.auth
    assert type(auth).__name__.endswith("Auth")
    assert CANARY not in repr(auth) and CANARY not in repr(adapter.client)


def _pontis(emulator: Emulator, **env: str) -> Any:
    environ = emulator.env() | env
    return open_provider("pontis", load_settings(environ=environ), transport=emulator.transport())


def _request(key: str) -> PayoutRequest:
    return PayoutRequest(
        "rk",
        1,
        attempt_key(key, 1, KeyForm.UUID),
        "E-1",
        Decimal("10.50"),
        currency="USDT",
        network="TRON",
        address=TRON[0],
        extra=PONTIS_EXTRA,
    )


def test_pontis_log_in_lost_on_the_wire_is_unknown_and_frees_the_next_log_in() -> None:
    emulator = Emulator()
    adapter = _pontis(emulator)
    emulator.faults.add(Fault("pontis", "drop_after", op="login"))
    lost = adapter.create(_request("a"))
    assert (lost.status, lost.error_code, lost.request) == (
        RowStatus.UNKNOWN,
        "read_timeout",
        None,  # nothing of the payout was sent
    )
    assert not adapter.client.auth._token_lock.locked()
    assert emulator["pontis"].count() == 0
    again = adapter.create(_request("a"))
    assert again.status is RowStatus.PENDING and emulator["pontis"].count() == 1
    pontis = emulator["pontis"]
    assert isinstance(pontis, EmuPontis) and pontis.logins == 2


def test_pontis_refused_log_in_asks_the_operator_and_sends_no_payout() -> None:
    emulator = Emulator()
    adapter = _pontis(emulator, BATCHPAY_PONTIS_PASSWORD="wrong")
    answer = adapter.create(_request("b"))
    assert (answer.status, answer.disposition, answer.error_code, answer.http_status) == (
        RowStatus.PLANNED,
        Disposition.OPERATOR,
        "login_failed",
        401,
    )
    assert answer.error_message == "PontisGlobe login refused: wrong email or password"
    assert emulator["pontis"].requests == [("POST", "/api/v1/user/login")]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BATCHPAY_PONTIS_ENCRYPTION_SECRET", "c2hvcnQ", "must be 32 bytes"),
        ("BATCHPAY_PONTIS_ENCRYPTION_SECRET", "abcde", "not base64url"),
        ("BATCHPAY_PONTIS_HMAC_SECRET", "abcde", "not base64url"),
    ],
)
def test_pontis_unusable_secrets_are_not_sent_and_say_which(
    variable: str, value: str, message: str
) -> None:
    emulator = Emulator()
    adapter = _pontis(emulator, **{variable: value})
    answer = adapter.create(_request("c"))
    assert (answer.status, answer.disposition, answer.error_code) == (
        RowStatus.PLANNED,
        Disposition.NOT_SENT,
        "bad_credentials",
    )
    assert answer.error_message is not None
    assert answer.error_message.startswith(variable) and message in answer.error_message
    assert value not in answer.error_message.removeprefix(variable)
    assert emulator["pontis"].requests == []
