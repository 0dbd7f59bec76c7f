"""Known-answer vectors for every provider signature and for the PontisGlobe envelope, pinned
against BOTH the emulation's own code (batchpay.emulator.signing) and the adapters' code
(the httpx.Auth flows, pontis_crypto and the webhook verifiers).

The 2328.io figures are the provider's own (PROVIDERS.md). The others were derived with the
emulation's code and checked once by hand with separate computations:
    printf '%s' BODY | openssl dgst -sha512 -hmac KEY               (OxaPay, TheDex)
    printf '%s' BODY | openssl base64 -A                             (TheDex payload)
    printf '%s' TS.BLOB | openssl dgst -sha256 -mac HMAC -macopt key:KEY   (PontisGlobe)
and the envelope with cryptography's low-level Cipher(AES, GCM) and binascii, not AESGCM.
"""

from __future__ import annotations

import json
from collections.abc import Generator

import httpx
import pytest

from batchpay.config import Environment, Secret
from batchpay.emulator import Emulator, EmulatorKeys, EmuRequest, signing
from batchpay.emulator.pontis import EmuPontis
from batchpay.providers import pontis_crypto
from batchpay.providers.auth import Pay2328Auth, PontisAuth, TheDexAuth
from batchpay.providers.pay2328 import Pay2328Adapter
from batchpay.webhooks.verify import Event, Rejected, verifier

# -- the vectors ----------------------------------------------------------------------------

OXAPAY_KEY = "oxapay-test-key"
OXAPAY_BODY = b'{"track_id":"258000001","status":"Confirmed","type":"payout"}'
OXAPAY_HMAC = (
    "aa2a11b2ba1f53a51fae965d4fca4c41b11a8c0c520493c64da381380a0b44d6"
    "ba3505da91f52e65c5dbede195ebdec38ca910b1fbd3b546ebe3361899d9a838"
)

DEX_KEY, DEX_SECRET = "dex-test-key", "dex-test-secret"
DEX_BODY = b'{"payoutId":"dex-00000001","request":"/api/v1/payouts/one","nonce":1700000000000}'
DEX_PAYLOAD = (
    "eyJwYXlvdXRJZCI6ImRleC0wMDAwMDAwMSIsInJlcXVlc3QiOiIvYXBpL3YxL3BheW91dHMvb25lIiwibm9uY2Ui"
    "OjE3MDAwMDAwMDAwMDB9"
)
DEX_SIGNATURE = (
    "b24664307ce8f83fb564608c8a425b0b3ea1548b1af0249379ed0453fdfbb12c"
    "3d8373d8df25de5c9a590f3cf1fede091cbb75a4d1d4a2fde7d6211bbc89fed5"
)

# 2328.io's own check figures (one set: the same key for both)
KEY_2328 = "test-key"
BODY_2328 = b'{"currency":"TRX","network":"TRX-TRC20","amount":"1.00"}'
SIGN_2328 = "46a3299868befe7b5ea23fafa24019106d3b70b28706e1fba37af9ca10dd4578"
SIGN_2328_EMPTY = "2711cc23e9ab1b8a9bc0fe991238da92671624a9ebdaf1c1abec06e7e9a14f9b"
WEBHOOK_2328 = {
    "uuid": "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "status": "completed",
    "txid": "abc",
}
WEBHOOK_2328_SIGN = "922b1999fabf90eb981e455835a99b0ef1342e744f82dabef574e16dec4395de"

PONTIS_ENC = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"  # bytes 0..31, base64url
PONTIS_HMAC = "cG9udGlzLWhtYWMtdGVzdC1rZXk"  # b"pontis-hmac-test-key"
PONTIS_IV = bytes.fromhex("cafebabefacedbaddecaf888")
PONTIS_TS = "1700000000"
PONTIS_LOGIN = b'{"email": "payroll@example.com", "password": "pw"}'
PONTIS_BLOB = (
    "yv66vvrO263eyviI:dDaUTgGnCbzCXwa2xaGK5Q:"
    "8YHFS8sTIzl8K3-tGmT7UGFMgDSneAcEIroqEtHkR9ONcrEnsqc-DVQ_ClISoVASeyk"
)
PONTIS_SIGNATURE = "3225fee9d0f2e5fee944e3c638b2f11e2f71412850a26f605d211433095c736d"
PONTIS_WEBHOOK_BODY = b'{"data":{"transaction_id":"t-1","status":"completed"}}'
PONTIS_WEBHOOK_SIGNATURE = "sha256=4f29e3bb7809a8dd677e05e203f5dbc2cde57eb1eb5674a8a2fca139ff52d903"


def _signed(auth: httpx.Auth, request: httpx.Request) -> httpx.Request:
    """The request as the auth flow sends it first."""
    flow = auth.sync_auth_flow(request)
    return next(flow)


def _flipped(hex_text: str) -> str:
    """The same text with its last hex digit changed."""
    return hex_text[:-1] + ("1" if hex_text[-1] == "0" else "0")


# -- the emulation's code -------------------------------------------------------------------


def test_emulation_oxapay_webhook_hmac() -> None:
    assert signing.oxapay_webhook_hmac(OXAPAY_KEY, OXAPAY_BODY) == OXAPAY_HMAC


def test_emulation_thedex_headers() -> None:
    assert signing.thedex_headers(DEX_KEY, DEX_SECRET, DEX_BODY) == {
        "x-ex-apikey": DEX_KEY,
        "x-ex-payload": DEX_PAYLOAD,
        "x-ex-signature": DEX_SIGNATURE,
    }


def test_emulation_2328io_sign_matches_the_providers_figures() -> None:
    assert signing.sign_2328(KEY_2328, BODY_2328) == SIGN_2328
    assert signing.sign_2328(KEY_2328, b"") == SIGN_2328_EMPTY
    text = json.dumps(WEBHOOK_2328, separators=(",", ":")).encode()
    assert signing.sign_2328(KEY_2328, text) == WEBHOOK_2328_SIGN


def test_emulation_pontis_envelope_and_signatures() -> None:
    enc, mac = signing.pontis_key(PONTIS_ENC), signing.pontis_key(PONTIS_HMAC)
    assert (enc, mac) == (bytes(range(32)), b"pontis-hmac-test-key")
    assert signing.pontis_seal(PONTIS_LOGIN, enc, PONTIS_IV) == PONTIS_BLOB
    assert signing.pontis_open(PONTIS_BLOB, enc) == PONTIS_LOGIN
    assert signing.pontis_signature(mac, PONTIS_TS, PONTIS_BLOB) == PONTIS_SIGNATURE
    assert (
        signing.pontis_webhook_signature(mac, PONTIS_TS, PONTIS_WEBHOOK_BODY)
        == PONTIS_WEBHOOK_SIGNATURE
    )


@pytest.mark.parametrize(
    "blob",
    [
        PONTIS_BLOB[:-2] + "AA",  # ciphertext tampered
        PONTIS_BLOB.replace("dDaU", "dDaV"),  # tag tampered
        "yv66vvrO263eyviI:" + PONTIS_BLOB.split(":")[2],  # a part missing
        PONTIS_BLOB + ":x",
    ],
)
def test_emulation_refuses_a_tampered_envelope(blob: str) -> None:
    with pytest.raises(ValueError):
        signing.pontis_open(blob, bytes(range(32)))


# -- the adapters' code ---------------------------------------------------------------------


def test_adapter_oxapay_webhook_verifier_accepts_the_vector_only() -> None:
    verify = verifier("oxapay", Environment({"BATCHPAY_OXAPAY_PAYOUT_API_KEY": OXAPAY_KEY}))
    event = verify({"hmac": OXAPAY_HMAC}, OXAPAY_BODY, 0)
    assert isinstance(event, Event) and event.provider_ref == "258000001"
    assert verify({"hmac": _flipped(OXAPAY_HMAC)}, OXAPAY_BODY, 0) == Rejected(
        401, "bad HMAC signature"
    )


def test_adapter_thedex_auth_headers() -> None:
    auth = TheDexAuth(Secret(DEX_KEY), Secret(DEX_SECRET))
    sent = _signed(auth, httpx.Request("POST", "http://x/api/v1/payouts/one", content=DEX_BODY))
    assert sent.headers["x-ex-apikey"] == DEX_KEY
    assert sent.headers["x-ex-payload"] == DEX_PAYLOAD
    assert sent.headers["x-ex-signature"] == DEX_SIGNATURE
    assert sent.content == DEX_BODY


def test_adapter_thedex_callback_verifier_accepts_the_vector_only() -> None:
    env = {"BATCHPAY_THEDEX_API_KEY": DEX_KEY, "BATCHPAY_THEDEX_API_SECRET": DEX_SECRET}
    verify = verifier("thedex", Environment(env))
    headers = signing.thedex_headers(DEX_KEY, DEX_SECRET, DEX_BODY)
    # the signature passes; the body (a request, not a callback) has no payout id
    assert verify(headers, DEX_BODY, 0) == Rejected(400, "no payout id")
    headers["x-ex-signature"] = _flipped(DEX_SIGNATURE)
    assert verify(headers, DEX_BODY, 0) == Rejected(401, "bad signature")


def test_adapter_2328io_auth_sign() -> None:
    auth = Pay2328Auth(Secret("project-uuid"), Secret(KEY_2328))
    posted = _signed(auth, httpx.Request("POST", "http://x/v1/payout/calc", content=BODY_2328))
    got = _signed(auth, httpx.Request("GET", "http://x/v1/payout/status/abc"))
    assert (posted.headers["sign"], got.headers["sign"]) == (SIGN_2328, SIGN_2328_EMPTY)
    assert posted.headers["project"] == "project-uuid"
    adapter = Pay2328Adapter(Secret("p"), Secret(KEY_2328), "http://x", {}, frozenset())
    assert adapter.sign(BODY_2328) == SIGN_2328


def test_adapter_2328io_webhook_verifier_accepts_the_vector() -> None:
    verify = verifier("2328io", Environment({"BATCHPAY_2328IO_PAYOUT_API_KEY": KEY_2328}))
    body = json.dumps({**WEBHOOK_2328, "sign": WEBHOOK_2328_SIGN}).encode()
    event = verify({}, body, 0)
    assert isinstance(event, Event) and event.provider_ref == WEBHOOK_2328["uuid"]
    wrong = json.dumps({**WEBHOOK_2328, "sign": _flipped(WEBHOOK_2328_SIGN)}).encode()
    assert verify({}, wrong, 0) == Rejected(401, "bad sign")


def test_adapter_pontis_crypto_vectors() -> None:
    enc = pontis_crypto.key_bytes(PONTIS_ENC)
    assert pontis_crypto.encrypt(PONTIS_LOGIN, enc, PONTIS_IV) == PONTIS_BLOB
    assert pontis_crypto.decrypt(PONTIS_BLOB, enc) == PONTIS_LOGIN
    mac = pontis_crypto.key_bytes(PONTIS_HMAC)
    assert pontis_crypto.signature(mac, PONTIS_TS, PONTIS_BLOB) == PONTIS_SIGNATURE


def test_adapter_pontis_webhook_verifier_accepts_the_vector_only() -> None:
    verify = verifier("pontis", Environment({"BATCHPAY_PONTIS_HMAC_SECRET": PONTIS_HMAC}))
    headers = {
        "x-pontis-timestamp": PONTIS_TS,
        "x-pontis-signature": PONTIS_WEBHOOK_SIGNATURE,
        "x-pontis-event-id": "evt-1",
    }
    event = verify(headers, PONTIS_WEBHOOK_BODY, int(PONTIS_TS))
    assert isinstance(event, Event) and event.provider_ref == "t-1"
    headers["x-pontis-signature"] = _flipped(PONTIS_WEBHOOK_SIGNATURE)
    assert verify(headers, PONTIS_WEBHOOK_BODY, int(PONTIS_TS)) == Rejected(401, "bad signature")


def _pontis_auth() -> PontisAuth:
    return PontisAuth(
        Secret("api-key"),
        Secret(PONTIS_ENC),
        Secret(PONTIS_HMAC),
        Secret("payroll@example.com"),
        Secret("pw"),
        "http://x/pontis/api/v1/user/login",
        clock=lambda: int(PONTIS_TS),
        random_bytes=lambda n: PONTIS_IV[:n],
    )


def _answer(status: int, data: object) -> httpx.Response:
    return httpx.Response(status, json=data)


def test_adapter_pontis_auth_logs_in_with_the_pinned_envelope() -> None:
    auth = _pontis_auth()
    request = httpx.Request(
        "POST", "http://x/pontis/api/v1/payouts/getPayoutStatus", json={"transaction_id": "t-1"}
    )
    flow: Generator[httpx.Request, httpx.Response, None] = auth.sync_auth_flow(request)
    login = next(flow)
    assert str(login.url) == "http://x/pontis/api/v1/user/login"
    assert login.content == json.dumps({"data": PONTIS_BLOB}).encode()
    assert login.headers["x-timestamp"] == PONTIS_TS
    assert login.headers["x-signature"] == PONTIS_SIGNATURE
    assert login.headers["x-api-key"] == "api-key" and "authorization" not in login.headers
    status = flow.send(_answer(200, {"ok": True, "data": {"access_token": "jwt-1"}}))
    blob = json.loads(status.content)["data"]
    assert blob.startswith("yv66vvrO263eyviI:")  # the same (fixed) IV
    assert signing.pontis_open(blob, bytes(range(32))) == request.content
    mac = signing.pontis_key(PONTIS_HMAC)
    assert status.headers["x-signature"] == signing.pontis_signature(mac, PONTIS_TS, blob)
    assert status.headers["authorization"] == "Bearer jwt-1"
    with pytest.raises(StopIteration):
        flow.send(_answer(200, {"ok": True, "data": {"transaction_id": "t-1"}}))


def test_adapter_pontis_auth_logs_in_again_once_on_jwt_expired() -> None:
    auth = _pontis_auth()
    request = httpx.Request("POST", "http://x/pontis/api/v1/payouts/sendPayoutRequest", json={})
    expired = {"ok": False, "error": {"code": "jwt_expired", "message": "token expired"}}
    flow = auth.sync_auth_flow(request)
    next(flow)
    first = flow.send(_answer(200, {"ok": True, "data": {"access_token": "jwt-1"}}))
    assert first.headers["authorization"] == "Bearer jwt-1"
    again = flow.send(_answer(401, expired))
    assert again.url.path.endswith("/user/login")
    second = flow.send(_answer(200, {"ok": True, "data": {"access_token": "jwt-2"}}))
    assert second.headers["authorization"] == "Bearer jwt-2"
    with pytest.raises(StopIteration):  # a second jwt_expired is the answer, not a loop
        flow.send(_answer(401, expired))
    # the next request reuses the fresh token without logging in
    assert next(auth.sync_auth_flow(request)).headers["authorization"] == "Bearer jwt-2"


def test_adapter_pontis_auth_stops_at_a_refused_log_in() -> None:
    auth = _pontis_auth()
    request = httpx.Request("POST", "http://x/pontis/api/v1/payouts/sendPayoutRequest", json={})
    flow = auth.sync_auth_flow(request)
    next(flow)
    refused = {"ok": False, "error": {"code": "unauthorized", "message": "wrong password"}}
    with pytest.raises(StopIteration):
        flow.send(_answer(401, refused))
    assert auth.state().refused


# -- the emulation's guards take the vectors, and refuse them one digit off ------------------


def _emulator() -> Emulator:
    keys = EmulatorKeys(
        thedex_key=DEX_KEY,
        thedex_secret=DEX_SECRET,
        key_2328=KEY_2328,
        pontis_api_key="api-key",
        pontis_encryption_secret=PONTIS_ENC,
        pontis_hmac_secret=PONTIS_HMAC,
        pontis_password="pw",
    )
    return Emulator(keys, clock=lambda: int(PONTIS_TS))


def _status(
    emulator: Emulator, method: str, path: str, headers: dict[str, str], body: bytes
) -> int:
    return emulator.handle(EmuRequest.build(method, path, headers, body)).status


def test_the_emulation_accepts_the_thedex_vector_only() -> None:
    headers = {"x-ex-apikey": DEX_KEY, "x-ex-payload": DEX_PAYLOAD, "x-ex-signature": DEX_SIGNATURE}
    path = "/thedex/api/v1/payouts/one"
    assert _status(_emulator(), "POST", path, headers, DEX_BODY) == 400  # no such payout
    headers["x-ex-signature"] = _flipped(DEX_SIGNATURE)
    assert _status(_emulator(), "POST", path, headers, DEX_BODY) == 401


def test_the_emulation_accepts_the_2328io_vector_only() -> None:
    project = EmulatorKeys().project_2328
    path = "/2328io/api/v1/payout/status/3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    headers = {"project": project, "sign": SIGN_2328_EMPTY, "user-agent": "t"}
    assert _status(_emulator(), "GET", path, headers, b"") == 404  # no such payout
    headers["sign"] = _flipped(SIGN_2328_EMPTY)
    assert _status(_emulator(), "GET", path, headers, b"") == 401


def test_the_emulation_accepts_the_pontis_login_vector_only() -> None:
    headers = {"x-api-key": "api-key", "x-timestamp": PONTIS_TS, "x-signature": PONTIS_SIGNATURE}
    body = json.dumps({"data": PONTIS_BLOB}).encode()
    emulator = _emulator()
    pontis = emulator["pontis"]
    assert isinstance(pontis, EmuPontis)
    assert _status(emulator, "POST", "/pontis/api/v1/user/login", headers, body) == 200
    assert pontis.logins == 1
    headers["x-signature"] = _flipped(PONTIS_SIGNATURE)
    assert _status(emulator, "POST", "/pontis/api/v1/user/login", headers, body) == 401
    assert pontis.logins == 1
