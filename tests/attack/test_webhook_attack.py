"""Validly signed callbacks whose fields are not text (an object, a list, true, a fraction)
used to reach the ledger: a binding error, a 500 the provider retries for ever. Now each is a
400 and the ledger is untouched (issue 11, item 5: "never crash")."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest

from batchpay.emulator import Emulator
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from batchpay.providers import pontis_crypto
from batchpay.providers.wire import b64
from tests.webhooks.test_webhooks import _paid_row, _receiver

# provider -> (reference field, status field, free-text field, a final status)
FIELDS: dict[str, tuple[str, str, str, Any]] = {
    "oxapay": ("track_id", "status", "tx_hash", "confirmed"),
    "thedex": ("id", "status", "transactionId", 1),
    "pontis": ("transaction_id", "status", "status_message", "completed"),
    "2328io": ("uuid", "status", "txid", "completed"),
}
ODD: dict[str, Any] = {"object": {"a": 1}, "list": ["x"], "true": True, "fraction": 1.5}


def _sign(
    provider: str, payload: dict[str, Any], emulator: Emulator
) -> tuple[dict[str, str], bytes]:
    keys = emulator.keys
    if provider == "oxapay":
        body = json.dumps(payload).encode()
        return {"HMAC": hmac.new(keys.oxapay_key.encode(), body, hashlib.sha512).hexdigest()}, body
    if provider == "thedex":
        body = json.dumps(payload).encode()
        signed = b64(body)
        signature = hmac.new(keys.thedex_secret.encode(), signed.encode(), hashlib.sha512)
        return {
            "X-EX-APIKEY": keys.thedex_key,
            "X-EX-PAYLOAD": signed,
            "X-EX-SIGNATURE": signature.hexdigest(),
        }, body
    if provider == "pontis":
        body = json.dumps(payload).encode()
        stamp = str(int(time.time()))
        key = pontis_crypto.key_bytes(keys.pontis_hmac_secret)
        mac = hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return {
            "x-pontis-timestamp": stamp,
            "x-pontis-signature": f"sha256={mac}",
            "x-pontis-event-id": f"evt-{time.monotonic_ns()}",
        }, body
    php = json.dumps(payload, separators=(",", ":")).replace("/", "\\/")
    sign = hmac.new(keys.key_2328.encode(), b64(php.encode()).encode(), hashlib.sha256)
    return {}, json.dumps({**payload, "sign": sign.hexdigest()}).encode()


@pytest.mark.parametrize("provider", sorted(FIELDS))
def test_signed_callbacks_with_fields_that_are_not_text_are_400_and_change_nothing(
    tmp_path: Path, provider: str
) -> None:
    emulator = Emulator()
    ref = _paid_row(tmp_path, provider, emulator)
    receiver = _receiver(tmp_path, emulator)
    ref_field, status_field, text_field, final = FIELDS[provider]
    with Ledger(tmp_path / "l.sqlite") as ledger:
        before = ledger.rows("b")[0]
    assert before.status is not RowStatus.COMPLETED
    for odd in ODD.values():
        for payload in (
            {ref_field: odd, status_field: final},
            {ref_field: ref, status_field: odd},
            {ref_field: ref, status_field: final, text_field: odd},
        ):
            headers, body = _sign(provider, payload, emulator)
            reply = receiver.handle(provider, headers, body)
            assert (reply.status, reply.text) == (400, "malformed callback"), payload
    with Ledger(tmp_path / "l.sqlite") as ledger:
        assert ledger.rows("b")[0] == before

    # the same callback with text where text belongs still applies
    headers, body = _sign(provider, {ref_field: ref, status_field: final}, emulator)
    assert receiver.handle(provider, headers, body).status == 200
    with Ledger(tmp_path / "l.sqlite") as ledger:
        assert ledger.rows("b")[0].status is RowStatus.COMPLETED
