from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from batchpay.config import Environment, load_settings
from batchpay.emulator import Emulator
from batchpay.ledger import Ledger
from batchpay.model import PayoutRow, RowStatus
from batchpay.plan import make_plan
from batchpay.providers import open_provider, pontis_crypto
from batchpay.providers.wire import b64
from batchpay.send import Engine
from batchpay.webhooks import Receiver
from batchpay.webhooks.server import WebhookServer
from tests.conftest import TRON


def _paid_row(tmp_path: Path, provider: str, emulator: Emulator) -> str:
    """Pay one row through the emulation; return its provider reference."""
    extra = (
        {
            "country_code": "IN",
            "payout_currency": "INR",
            "payment_method": "imps",
            "recipient_name": "R",
        }
        if provider == "pontis"
        else {}
    )
    row = PayoutRow(
        2,
        "E-1",
        Decimal("10.00"),
        Decimal("10.00"),
        Decimal(0),
        "USDT",
        None if provider == "pontis" else "TRON",
        None if provider == "pontis" else TRON[0],
        extra=extra,
    )
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.save_plan(
            make_plan("b", provider, "s.csv", "", [row]),
            sandbox=False,
            rounding="down",
            fee_option="deduct",
        )
        settings = load_settings(environ=emulator.env())
        Engine(
            ledger=ledger,
            provider=open_provider(provider, settings, transport=emulator.transport()),
            batch="b",
            sleep=lambda s: None,
        ).send_planned()
        ref = ledger.rows("b")[0].provider_ref
    assert ref
    return ref


def _status(tmp_path: Path) -> RowStatus:
    with Ledger(tmp_path / "l.sqlite") as ledger:
        return ledger.rows("b")[0].status


def _signed(
    provider: str,
    ref: str,
    status: str,
    emulator: Emulator,
    event_id: str = "evt-1",
    ts: int | None = None,
) -> tuple[dict[str, str], bytes]:
    keys = emulator.keys
    if provider == "oxapay":
        body = json.dumps(
            {"track_id": ref, "type": "payout", "status": status, "tx_hash": "ab" * 32}
        ).encode()
        return {"HMAC": hmac.new(keys.oxapay_key.encode(), body, hashlib.sha512).hexdigest()}, body
    if provider == "thedex":
        body = json.dumps({"id": ref, "status": int(status), "statusName": "x"}).encode()
        payload = b64(body)
        return {
            "X-EX-APIKEY": keys.thedex_key,
            "X-EX-PAYLOAD": payload,
            "X-EX-SIGNATURE": hmac.new(
                keys.thedex_secret.encode(), payload.encode(), hashlib.sha512
            ).hexdigest(),
        }, body
    if provider == "pontis":
        body = json.dumps({"transaction_id": ref, "status": status}).encode()
        stamp = str(ts if ts is not None else int(time.time()))
        key = pontis_crypto.key_bytes(keys.pontis_hmac_secret)
        signature = hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return {
            "x-pontis-timestamp": stamp,
            "x-pontis-signature": f"sha256={signature}",
            "x-pontis-event-id": event_id,
        }, body
    # 2328io, signed over the PHP encoding (escaped slashes and unicode)
    fields = {
        "uuid": ref,
        "status": status,
        "txid": "cd" * 32,
        "url_callback": "https://x.test/hook",
        "note": "Zoë",
    }
    php = json.dumps(fields, separators=(",", ":")).replace("/", "\\/")
    sign = hmac.new(keys.key_2328.encode(), b64(php.encode()).encode(), hashlib.sha256).hexdigest()
    body = json.dumps({**fields, "sign": sign}, separators=(",", ":"), ensure_ascii=False).encode()
    return {}, body


FINAL = {"oxapay": "confirmed", "thedex": "1", "pontis": "completed", "2328io": "completed"}
FAILED = {"oxapay": "rejected", "thedex": "2", "pontis": "failed", "2328io": "failed"}


def _receiver(tmp_path: Path, emulator: Emulator) -> Receiver:
    return Receiver(tmp_path / "l.sqlite", Environment(emulator.env()))


@pytest.mark.parametrize("provider", ["oxapay", "thedex", "pontis", "2328io"])
def test_a_verified_callback_updates_the_row_once(tmp_path: Path, provider: str) -> None:
    emulator = Emulator()
    ref = _paid_row(tmp_path, provider, emulator)
    receiver = _receiver(tmp_path, emulator)
    headers, body = _signed(provider, ref, FINAL[provider], emulator)
    assert receiver.handle(provider, headers, body).status == 200
    assert _status(tmp_path) is RowStatus.COMPLETED
    again = receiver.handle(provider, headers, body)
    assert (again.status, again.text) == (200, "duplicate")
    # a later "failed" never moves a completed row
    headers, body = _signed(provider, ref, FAILED[provider], emulator, event_id="evt-2")
    late = receiver.handle(provider, headers, body)
    assert (late.status, late.text) == (200, "unchanged")
    assert _status(tmp_path) is RowStatus.COMPLETED


@pytest.mark.parametrize("provider", ["oxapay", "thedex", "pontis", "2328io"])
def test_a_bad_signature_is_401_and_changes_nothing(tmp_path: Path, provider: str) -> None:
    emulator = Emulator()
    ref = _paid_row(tmp_path, provider, emulator)
    headers, body = _signed(provider, ref, FINAL[provider], emulator)
    # the others sign the raw bytes; 2328.io signs re-encoded JSON, so change a value there
    if provider == "2328io":
        tampered = body.replace(b'"completed"', b'"cancelled"')
    else:
        tampered = body[:-1] + b" }"
    assert tampered != body
    before = _status(tmp_path)
    assert _receiver(tmp_path, emulator).handle(provider, headers, tampered).status == 401
    assert _status(tmp_path) is before


def test_pontis_rejects_stale_timestamps(tmp_path: Path) -> None:
    emulator = Emulator()
    ref = _paid_row(tmp_path, "pontis", emulator)
    headers, body = _signed("pontis", ref, "completed", emulator, ts=int(time.time()) - 301)
    assert _receiver(tmp_path, emulator).handle("pontis", headers, body).status == 401
    assert _status(tmp_path) is RowStatus.PENDING


def test_2328io_accepts_the_unescaped_encoding_too(tmp_path: Path) -> None:
    emulator = Emulator()
    ref = _paid_row(tmp_path, "2328io", emulator)
    payload = {"uuid": ref, "status": "completed", "url_callback": "https://x.test/hook"}
    plain = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    sign = hmac.new(
        emulator.keys.key_2328.encode(), b64(plain.encode()).encode(), hashlib.sha256
    ).hexdigest()
    body = json.dumps({**payload, "sign": sign}, separators=(",", ":")).encode()
    assert _receiver(tmp_path, emulator).handle("2328io", {}, body).status == 200
    assert _status(tmp_path) is RowStatus.COMPLETED


def test_unknown_payouts_unconfigured_providers_and_garbage(tmp_path: Path) -> None:
    emulator = Emulator()
    _paid_row(tmp_path, "oxapay", emulator)
    receiver = _receiver(tmp_path, emulator)
    headers, body = _signed("oxapay", "999", "confirmed", emulator)
    assert receiver.handle("oxapay", headers, body).status == 202
    assert receiver.handle("paypal", {}, b"{}").status == 404
    assert receiver.handle("2328io", {}, b"not json").status == 400
    bare = Receiver(tmp_path / "l.sqlite", Environment({}))
    assert bare.handle("oxapay", headers, body).status == 503


def test_served_over_loopback(tmp_path: Path) -> None:
    emulator = Emulator()
    ref = _paid_row(tmp_path, "oxapay", emulator)
    server = WebhookServer(_receiver(tmp_path, emulator))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        headers, body = _signed("oxapay", ref, "confirmed", emulator)
        ok = httpx.post(f"{server.url}/webhooks/oxapay", content=body, headers=headers)
        bad = httpx.post(f"{server.url}/webhooks/oxapay", content=body, headers={"HMAC": "0"})
        assert (ok.status_code, bad.status_code) == (200, 401)
    finally:
        server.shutdown()
        server.server_close()
    assert _status(tmp_path) is RowStatus.COMPLETED
