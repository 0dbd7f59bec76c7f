"""Per-adapter facts: signatures, request shapes, status tables, and the safety rules that
only some providers need (tag search, grace period, re-login, existing-payout checks)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from batchpay.config import Secret, load_settings
from batchpay.emulator import Emulator, Fault
from batchpay.emulator.pontis import EmuPontis
from batchpay.errors import ConfigError
from batchpay.ledger import Ledger
from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import KeyForm, attempt_key, make_plan
from batchpay.providers import CREDENTIALS_HINT, open_provider, pontis_crypto
from batchpay.providers.base import PayoutRequest
from batchpay.providers.oxapay import STATUSES as OXA
from batchpay.providers.oxapay import OxaPayAdapter
from batchpay.providers.pay2328 import STATUSES as P2328
from batchpay.providers.pay2328 import Pay2328Adapter
from batchpay.providers.pontis import STATUSES as PONTIS
from batchpay.providers.thedex import STATUSES as DEX
from batchpay.providers.wire import b64url_decode, b64url_encode
from batchpay.send import Engine, RetryPolicy
from tests.conftest import TRON, FixedClock

DATA = Path(__file__).parent / "data"


def _request(
    key: str = "bp-00112233445566778899aabb", amount: str = "10.5", **kw: Any
) -> PayoutRequest:
    fields: dict[str, Any] = {"currency": "USDT", "network": "TRON", "address": TRON[0]}
    fields |= kw
    return PayoutRequest("rk", 1, key, "E-1", Decimal(amount), **fields)


def _adapter(name: str, emulator: Emulator, **settings: Any) -> Any:
    return open_provider(
        name, load_settings(settings, environ=emulator.env()), transport=emulator.transport()
    )


def _spied(name: str) -> tuple[Any, list[httpx.Request]]:
    """An adapter on the emulation that also keeps every request it sends."""
    seen: list[httpx.Request] = []
    emulator = Emulator()
    inner = emulator.transport()

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return inner.handle_request(request)

    adapter = open_provider(
        name, load_settings(environ=emulator.env()), transport=httpx.MockTransport(spy)
    )
    return adapter, seen


# -- signatures ---------------------------------------------------------------------------


def test_2328io_signature_vectors_from_the_provider() -> None:
    adapter = Pay2328Adapter(Secret("p"), Secret("test-key"), "http://x", {}, frozenset())
    body = b'{"currency":"TRX","network":"TRX-TRC20","amount":"1.00"}'
    assert adapter.sign(body) == (
        "46a3299868befe7b5ea23fafa24019106d3b70b28706e1fba37af9ca10dd4578"
    )
    assert adapter.sign(b"") == ("2711cc23e9ab1b8a9bc0fe991238da92671624a9ebdaf1c1abec06e7e9a14f9b")


def test_2328io_signs_the_exact_bytes_it_sends() -> None:
    adapter, seen = _spied("2328io")
    adapter.create(_request(key=attempt_key("r", 1, KeyForm.UUID)))
    (request,) = seen
    body = request.read()
    assert json.loads(body)["amount"] == "10.5"  # a string, as 2328.io wants
    assert request.headers["sign"] == adapter.sign(body)
    assert request.headers["user-agent"].startswith("batchpay/")


def test_thedex_payload_and_signature_headers() -> None:
    adapter, seen = _spied("thedex")
    answer = adapter.create(_request(amount="10.120000"))
    assert answer.status is RowStatus.PENDING
    body = seen[0].read()
    payload = base64.b64encode(body).decode()
    assert seen[0].headers["x-ex-payload"] == payload
    assert (
        seen[0].headers["x-ex-signature"]
        == hmac.new(b"sandbox-thedex-secret", payload.encode(), hashlib.sha512).hexdigest()
    )
    assert b'"amountInPayCurrency":10.120000' in body  # an exact JSON number
    assert json.loads(body)["payCurrency"] == "USDT_TRON"


def test_pontis_envelope_round_trip_fixed_vector_and_tamper() -> None:
    key = bytes(range(32))
    blob = pontis_crypto.encrypt(b'{"a":1}', key, iv=bytes(12))
    assert blob.count(":") == 2 and "=" not in blob
    assert pontis_crypto.decrypt(blob, key) == b'{"a":1}'
    iv, tag, ct = blob.split(":")
    assert (iv, len(b64url_decode(tag))) == ("AAAAAAAAAAAAAAAA", 16)
    with pytest.raises(pontis_crypto.EnvelopeError):
        pontis_crypto.decrypt(f"{iv}:{tag}:{ct[:-2]}AA", key)
    with pytest.raises(pontis_crypto.EnvelopeError):
        pontis_crypto.decrypt(blob, bytes(32))
    assert pontis_crypto.signature(b"k", "1700000000", "x") == pontis_crypto.signature(
        b"k", "1700000000", "x"
    )
    assert pontis_crypto.key_bytes(b64url_encode(key)) == key


def test_wrong_credentials_are_refused_by_the_emulation_and_leave_the_row_planned() -> None:
    emulator = Emulator()
    for name, variable in [
        ("oxapay", "BATCHPAY_OXAPAY_PAYOUT_API_KEY"),
        ("thedex", "BATCHPAY_THEDEX_API_SECRET"),
        ("pontis", "BATCHPAY_PONTIS_HMAC_SECRET"),
        ("2328io", "BATCHPAY_2328IO_PAYOUT_API_KEY"),
    ]:
        env = emulator.env() | {variable: "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc"}
        adapter = open_provider(name, load_settings(environ=env), transport=emulator.transport())
        request = _request(
            key=attempt_key("r", 1, adapter.key_form),
            extra={
                "country_code": "IN",
                "payout_currency": "INR",
                "payment_method": "imps",
                "recipient_name": "R",
            },
        )
        answer = adapter.create(request)
        assert answer.status is RowStatus.PLANNED, (name, answer)
        assert answer.http_status == 401, name
    assert sum(emulator[n].count() for n in ("oxapay", "thedex", "pontis", "2328io")) == 0


# -- request shapes -----------------------------------------------------------------------


def test_oxapay_request_matches_its_openapi_schema() -> None:
    schema = json.loads((DATA / "oxapay_generate_payout_schema.json").read_text())
    adapter, seen = _spied("oxapay")
    adapter.create(_request(amount="0.10", memo="m", description="November salary"))
    request = seen[0]
    assert request.method.lower() == schema["method"] and request.url.path.endswith(schema["path"])
    for header in schema["headers"]:
        assert header["name"].lower() in request.headers
    body = json.loads(request.read(), parse_float=Decimal)
    assert set(schema["required"]) <= set(body)
    assert set(body) <= set(schema["properties"])
    for name, value in body.items():
        kind = schema["properties"][name]["type"]
        assert isinstance(value, Decimal | int) if kind == "number" else isinstance(value, str)
    assert body["amount"] == Decimal("0.10") and b'"amount":0.10' in request.read()
    assert "[bp-00112233445566778899aabb]" in body["description"]


def test_oxapay_network_codes_are_configurable(tmp_path: Path) -> None:
    (tmp_path / "batchpay.toml").write_text('[networks.oxapay]\nTRON = "Tron Network"\n')
    emulator = Emulator()
    adapter = open_provider(
        "oxapay",
        load_settings(environ=emulator.env(), cwd=tmp_path),
        transport=emulator.transport(),
    )
    assert isinstance(adapter, OxaPayAdapter)
    assert adapter.payload(_request())["network"] == "Tron Network"


def test_missing_credentials_name_the_variable() -> None:
    for name, variables in CREDENTIALS_HINT.items():
        env = {v: "x" for v in variables[1:]}
        with pytest.raises(ConfigError, match=variables[0]):
            open_provider(name, load_settings(environ=env))


# -- status tables ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "word", "status"),
    [
        (OXA, "processing", RowStatus.PENDING),
        (OXA, "confirming", RowStatus.PROCESSING),
        (OXA, "confirmed", RowStatus.COMPLETED),
        (OXA, "rejected", RowStatus.FAILED),
        (OXA, "canceled", RowStatus.CANCELLED),
        (DEX, 0, RowStatus.PENDING),
        (DEX, 1, RowStatus.COMPLETED),
        (DEX, 2, RowStatus.FAILED),
        (DEX, 6, RowStatus.FAILED),
        (DEX, 7, RowStatus.PROCESSING),
        (DEX, 8, RowStatus.PROCESSING),
        (PONTIS, "pending_approval", RowStatus.PENDING),
        (PONTIS, "reversed", RowStatus.NEEDS_REVIEW),
        (PONTIS, "rejected", RowStatus.FAILED),
        (PONTIS, "canceled", RowStatus.CANCELLED),
        (P2328, "pending", RowStatus.PENDING),
        (P2328, "completed", RowStatus.COMPLETED),
        (P2328, "failed", RowStatus.FAILED),
        (P2328, "cancelled", RowStatus.CANCELLED),
    ],
)
def test_status_tables(table: dict[Any, RowStatus], word: Any, status: RowStatus) -> None:
    assert table[word] is status


def test_unknown_status_words_map_to_unknown_case_insensitively() -> None:
    from batchpay.providers.base import map_status

    assert map_status(OXA, "CONFIRMED") is RowStatus.COMPLETED
    assert map_status(OXA, "on-hold") is RowStatus.UNKNOWN


# -- provider-specific safety -------------------------------------------------------------


def test_pontis_logs_in_again_when_the_token_expires() -> None:
    emulator = Emulator()
    adapter = _adapter("pontis", emulator)
    extra = {
        "country_code": "PH",
        "payout_currency": "PHP",
        "payment_method": "bank_local",
        "recipient_name": "Juan",
        "recipient.account_number": "1234567890",
    }
    first = adapter.create(_request(key=attempt_key("a", 1, KeyForm.UUID), extra=extra))
    pontis = emulator["pontis"]
    assert isinstance(pontis, EmuPontis)
    pontis.expire_tokens()
    second = adapter.create(_request(key=attempt_key("b", 1, KeyForm.UUID), extra=extra))
    assert first.status is second.status is RowStatus.PENDING
    assert pontis.logins == 2


def test_pontis_sandbox_cents_decide_the_final_status() -> None:
    emulator = Emulator()
    adapter = _adapter("pontis", emulator)
    extra = {
        "country_code": "PH",
        "payout_currency": "PHP",
        "payment_method": "bank_local",
        "recipient_name": "Juan",
    }
    finals = {}
    amounts = ("10.00", "10.01", "10.02", "10.03", "10.04", "0.0233", "10.049", "10.010")
    for amount in amounts:
        request = _request(key=attempt_key(amount, 1, KeyForm.UUID), amount=amount, extra=extra)
        created = adapter.create(request)
        finals[amount] = adapter.lookup(request, created.provider_ref).status
    # only exactly two decimals ending .01 to .04 simulate, as in the in-process sandbox
    assert finals == {
        "10.00": RowStatus.COMPLETED,
        "10.01": RowStatus.FAILED,
        "10.02": RowStatus.FAILED,
        "10.03": RowStatus.PENDING,
        "10.04": RowStatus.FAILED,
        "0.0233": RowStatus.COMPLETED,
        "10.049": RowStatus.COMPLETED,
        "10.010": RowStatus.COMPLETED,
    }


def _ledger_with_row(tmp_path: Path, provider: str) -> Ledger:
    ledger = Ledger(tmp_path / "l.sqlite", clock=FixedClock())
    row = PayoutRow(2, "E-1", Decimal("10.5"), Decimal("10.5"), Decimal(0), "USDT", "TRON", TRON[0])
    ledger.save_plan(
        make_plan("b", provider, "s.csv", "", [row]),
        sandbox=False,
        rounding="down",
        fee_option="deduct",
    )
    return ledger


def test_oxapay_waits_out_the_grace_period_before_resending(tmp_path: Path) -> None:
    """Not found in the history is only trusted once the provider's worst latency has passed."""
    emulator = Emulator()
    ledger = _ledger_with_row(tmp_path, "oxapay")  # its clock says 2026-11-01 09:00
    emulator.faults.add(Fault("oxapay", "5xx_before", status=503))  # ambiguous: 0 created
    settings = load_settings({"grace_seconds": {"oxapay": 3600}}, environ=emulator.env())
    now = [dt.datetime(2026, 11, 1, 9, 5, tzinfo=dt.UTC)]

    def engine() -> Engine:
        return Engine(
            ledger=ledger,
            provider=open_provider("oxapay", settings, transport=emulator.transport()),
            batch="b",
            retry=RetryPolicy(max_tries=2),
            sleep=lambda s: None,
            clock=lambda: now[0],
        )

    engine().send_planned()
    assert ledger.rows("b")[0].status is RowStatus.UNKNOWN
    for _ in range(3):  # searches find nothing, but it is too early to believe that
        engine().settle()
    assert ledger.rows("b")[0].status is RowStatus.UNKNOWN
    assert emulator["oxapay"].count() == 0
    now[0] += dt.timedelta(hours=2)
    engine().settle()
    assert ledger.rows("b")[0].status is RowStatus.PENDING
    assert emulator["oxapay"].count() == 1


def test_a_failing_history_search_never_leads_to_a_resend(tmp_path: Path) -> None:
    emulator = Emulator()
    ledger = _ledger_with_row(tmp_path, "oxapay")
    emulator.faults.add(Fault("oxapay", "drop_after"))
    emulator.faults.add(Fault("oxapay", "5xx_before", op="list", times=-1, status=503))
    settings = load_settings({"grace_seconds": {"oxapay": 0}}, environ=emulator.env())
    engine = Engine(
        ledger=ledger,
        provider=open_provider("oxapay", settings, transport=emulator.transport()),
        batch="b",
        retry=RetryPolicy(max_tries=2),
        sleep=lambda s: None,
    )
    engine.send_planned()
    for _ in range(3):
        engine.settle()
        engine.send_planned()
    assert ledger.rows("b")[0].status is RowStatus.UNKNOWN
    assert emulator["oxapay"].count() == 1


def test_two_payouts_with_one_tag_need_review(tmp_path: Path) -> None:
    emulator = Emulator()
    adapter = _adapter("oxapay", emulator)
    request = _request()
    adapter.create(request)
    adapter.create(request)  # OxaPay has no idempotency: a second payout exists
    found = adapter.lookup(request, None)
    assert found is not None and found.status is RowStatus.NEEDS_REVIEW
    assert found.error_code == "duplicate_at_provider"


def test_2328io_existing_payout_with_other_amount_needs_review(tmp_path: Path) -> None:
    emulator = Emulator()
    ledger = _ledger_with_row(tmp_path, "2328io")
    key = attempt_key(ledger.rows("b")[0].row_key, 1, KeyForm.UUID)
    other = _adapter("2328io", emulator)
    other.create(_request(key=key, amount="99"))  # same order_id, different amount
    Engine(
        ledger=ledger, provider=_adapter("2328io", emulator), batch="b", sleep=lambda s: None
    ).send_planned()
    row = ledger.rows("b")[0]
    assert row.status is RowStatus.NEEDS_REVIEW and "99" in (row.error_message or "")
    assert emulator["2328io"].count() == 1


def test_2328io_quotes_fees_for_the_dry_run() -> None:
    emulator = Emulator()
    quote = _adapter("2328io", emulator).quote(_request(key="k", amount="100", fee_option="add"))
    assert quote is not None
    assert (quote.fee, quote.receives, quote.debited) == (
        Decimal("1.5"),
        Decimal("100"),
        Decimal("101.5"),
    )
    assert emulator["2328io"].count() == 0
