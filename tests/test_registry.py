"""The provider registry is the one place a provider is named: a fifth provider needs its module
(here, this test module: adapter factory and callback verifier), one registry entry and, where
it has any, its schema rows; then a sheet pays through it end to end."""

from __future__ import annotations

import ast
import hashlib
import hmac
import itertools
import json
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import batchpay.registry
from batchpay import api, config, registry
from batchpay.config import Environment, Settings, load_settings
from batchpay.emulator import PREFIXES, Emulator
from batchpay.errors import UsageError
from batchpay.keys import KeyForm
from batchpay.ledger import Ledger
from batchpay.model import RowStatus
from batchpay.providers import CREDENTIALS_HINT, ENV_PREFIX, open_provider
from batchpay.providers.base import Answer, Disposition, PayoutRequest, Quote
from batchpay.providers.boundary import Failure, Reply
from batchpay.providers.callback import Event, Rejected, Verifier
from batchpay.providers.http import HttpAdapter, payout_or_unknown, response_view
from batchpay.providers.opening import Opening
from batchpay.providers.wire import secrets_equal
from batchpay.registry import ProviderEntry
from batchpay.webhooks import Receiver
from tests.conftest import TRON, sheet_text

# --- the fifth provider's module: a wire format, an adapter, a callback verifier -------------

FAKE_STATUSES = {
    "queued": RowStatus.PENDING,
    "done": RowStatus.COMPLETED,
    "bounced": RowStatus.FAILED,
}


class FakePayAdapter(HttpAdapter):
    """A provider with an idempotency key, a bearer token and a status lookup."""

    name = "fakepay"
    key_form = KeyForm.UUID
    dedupes_by_key = True

    def __init__(self, token: str, base_url: str, **http: Any) -> None:
        super().__init__(base_url, **http)
        self.client.headers["Authorization"] = f"Bearer {token}"

    def create(self, request: PayoutRequest) -> Answer:
        sent = {
            "key": request.key,
            "amount": str(request.amount),
            "currency": request.currency,
            "chain": request.network,
            "to": request.address,
        }
        reply = self.exchange("POST", "/payouts", body=json.dumps(sent).encode())
        return self.answer(reply, sent)

    def lookup(self, request: PayoutRequest, provider_ref: str | None) -> Answer | None:
        if not provider_ref:
            return None  # the key deduplicates: a resend is safe
        return payout_or_unknown(
            self.answer(self.exchange("GET", f"/payouts/{provider_ref}"), None)
        )

    def quote(self, request: PayoutRequest) -> Quote | None:
        return None

    def read_reply(self, reply: Reply | Failure, sent: Mapping[str, Any] | None) -> Answer:
        assert isinstance(reply, Reply)
        data = reply.data if isinstance(reply.data, dict) else {}
        status = FAKE_STATUSES.get(str(data.get("state")), RowStatus.UNKNOWN)
        return Answer(
            status,
            Disposition.FINAL if status is RowStatus.FAILED else Disposition.ACCEPTED,
            provider_ref=data.get("id"),
            amount=Decimal(data["amount"]) if "amount" in data else None,
            address=data.get("to"),
            http_status=reply.status_code,
            request=sent,
            response=response_view(reply),
        )


def open_fakepay(opening: Opening) -> FakePayAdapter:
    return FakePayAdapter(opening.secret("TOKEN").reveal(), opening.base_url, **opening.http)


def fakepay_verifier(entry: ProviderEntry, env: Environment) -> Verifier:
    token = env.secret(entry.var("TOKEN"))

    def verify(headers: Mapping[str, str], body: bytes, now: float) -> Event | Rejected:  # float-ok
        expected = hmac.new(token.reveal().encode(), body, hashlib.sha256).hexdigest()
        if not secrets_equal(headers.get("x-fakepay-signature", ""), expected):
            return Rejected(401, "bad signature")
        data = json.loads(body)
        return Event("fakepay", data["id"], FAKE_STATUSES.get(data["state"], RowStatus.UNKNOWN))

    return verify


FAKEPAY = ProviderEntry(
    name="fakepay",
    adapter=f"{__name__}:open_fakepay",
    env_prefix="BATCHPAY_FAKEPAY",
    credentials=("TOKEN",),
    default_base_url="https://fakepay.invalid/api",
    rate_limit=0.0,
    statuses=f"{__name__}:FAKE_STATUSES",
    verifier=f"{__name__}:fakepay_verifier",
)
TOKEN = "fakepay-test-token"


class FakeBank:
    """FakePay's side of the wire, in process: one payout per key, whatever the retries."""

    def __init__(self) -> None:
        self.payouts: dict[str, dict[str, str]] = {}  # id -> payout
        self.by_key: dict[str, str] = {}
        self.creates = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"message": "bad token"})
        path = request.url.path.removeprefix("/api")
        with self._lock:
            if request.method == "POST" and path == "/payouts":
                self.creates += 1
                sent = json.loads(request.content)
                known = self.by_key.get(sent["key"])
                if known is None:
                    known = self.by_key[sent["key"]] = f"fp-{next(self._ids)}"
                    self.payouts[known] = {
                        "id": known,
                        "state": "queued",
                        "amount": sent["amount"],
                        "to": sent["to"],
                    }
                return httpx.Response(200, json=self.payouts[known])
            payout = self.payouts.get(path.removeprefix("/payouts/"))
            if request.method == "GET" and payout is not None:
                return httpx.Response(200, json=payout)
        return httpx.Response(404, json={"message": "no such payout"})


@pytest.fixture
def fakepay() -> Iterator[ProviderEntry]:
    with registry.registered(FAKEPAY) as entry:
        yield entry


def _settings(workdir: Path) -> Settings:
    return load_settings(
        {"ledger": workdir / "ledger.sqlite", "report_dir": workdir / "reports"},
        environ={"BATCHPAY_FAKEPAY_TOKEN": TOKEN},
        cwd=workdir,
    )


def test_a_fifth_provider_pays_a_sheet_end_to_end(workdir: Path, fakepay: ProviderEntry) -> None:
    settings = _settings(workdir)
    sheet = workdir / "sheet.csv"
    sheet.write_text(sheet_text([("R1", "10.50"), ("R2", "3")]), encoding="utf-8")
    bank = FakeBank()
    transport = httpx.MockTransport(bank.handle)

    result = api.run(sheet, "fakepay", "b1", settings=settings, transport=transport)

    assert result.provider == "fakepay" and not result.sandbox
    assert result.summary is not None and result.summary.counts.get("pending") == 2
    assert sorted(p["amount"] for p in bank.payouts.values()) == ["10.50", "3"]
    assert {p["to"] for p in bank.payouts.values()} == {TRON[0], TRON[1]}
    # the webhook receiver serves it too, from the same entry
    bank.payouts["fp-1"]["state"] = "done"
    body = json.dumps(bank.payouts["fp-1"]).encode()
    signature = hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
    receiver = Receiver(settings.ledger, Environment({"BATCHPAY_FAKEPAY_TOKEN": TOKEN}))
    assert receiver.handle("fakepay", {"X-FakePay-Signature": "0" * 64}, body).status == 401
    assert receiver.handle("fakepay", {"X-FakePay-Signature": signature}, body).status == 200
    with Ledger(settings.ledger) as ledger:
        statuses = {r.provider_ref: r.status for r in ledger.rows("b1")}
    assert statuses == {"fp-1": RowStatus.COMPLETED, "fp-2": RowStatus.PENDING}
    # a second run of the same batch pays nothing twice
    again = api.run(sheet, "fakepay", "b1", settings=settings, transport=transport)
    assert len(bank.payouts) == 2 and again.requests_sent == 0


def test_the_fifth_provider_is_known_to_config_and_forgotten_after(
    workdir: Path, fakepay: ProviderEntry
) -> None:
    (workdir / "batchpay.toml").write_text("[rate_limit]\nfakepay = 2.5\n", encoding="utf-8")
    settings = load_settings({}, environ={}, cwd=workdir)
    assert settings.rate_limit("fakepay") == 2.5
    assert registry.load(str(registry.entry("fakepay").statuses)) == FAKE_STATUSES
    registry.unregister("fakepay")
    try:
        with pytest.raises(UsageError, match="unknown provider 'fakepay'"):
            open_provider("fakepay", settings)
        assert "fakepay" not in Settings().rate_limits
    finally:
        registry.register(FAKEPAY)


def test_registering_twice_or_removing_a_builtin_is_refused(fakepay: ProviderEntry) -> None:
    with pytest.raises(ValueError, match="already registered"):
        registry.register(FAKEPAY)
    with pytest.raises(ValueError, match="built in"):
        registry.unregister("oxapay")
    with pytest.raises(KeyError):
        fakepay.var("SECRET")  # not declared


# --- the four built-in providers: the registry says what the eight places used to say -------


def test_the_registry_keeps_every_provider_fact_as_it_was() -> None:
    assert registry.names() == ("oxapay", "thedex", "pontis", "2328io", "sandbox")
    assert registry.names() == config.PROVIDERS
    assert registry.rate_limits() == {
        "oxapay": 5.0,
        "thedex": 5.0,
        "pontis": 5.0,
        "2328io": 10.0,
        "sandbox": 0.0,
    }
    assert {e.name: e.default_base_url for e in registry.entries()} == {
        "oxapay": "https://api.oxapay.com/v1",
        "thedex": "https://app.thedex.cloud",
        "pontis": "https://api.pontisglobe.com",
        "2328io": "https://api.2328.io/api",
        "sandbox": None,
    }
    assert CREDENTIALS_HINT == {
        "oxapay": ("BATCHPAY_OXAPAY_PAYOUT_API_KEY",),
        "thedex": ("BATCHPAY_THEDEX_API_KEY", "BATCHPAY_THEDEX_API_SECRET"),
        "pontis": (
            "BATCHPAY_PONTIS_API_KEY",
            "BATCHPAY_PONTIS_ENCRYPTION_SECRET",
            "BATCHPAY_PONTIS_HMAC_SECRET",
            "BATCHPAY_PONTIS_EMAIL",
            "BATCHPAY_PONTIS_PASSWORD",
        ),
        "2328io": ("BATCHPAY_2328IO_PROJECT", "BATCHPAY_2328IO_PAYOUT_API_KEY"),
    }
    assert ENV_PREFIX == {
        "oxapay": "BATCHPAY_OXAPAY",
        "thedex": "BATCHPAY_THEDEX",
        "pontis": "BATCHPAY_PONTIS",
        "2328io": "BATCHPAY_2328IO",
    }
    assert registry.entry("2328io").memo_networks == {"TON", "SOLANA"}
    assert all(e.grace_seconds == 900.0 for e in registry.entries())


@pytest.mark.parametrize("name", registry.names())
def test_each_adapter_matches_its_entry(workdir: Path, name: str) -> None:
    entry = registry.entry(name)
    keys = Emulator().env()  # pontis's secrets must be base64 keys
    environ = {var: keys.get(var, "x") for var in entry.credential_vars}
    settings = load_settings({"ledger": workdir / "l.sqlite"}, environ=environ, cwd=workdir)
    adapter = open_provider(name, settings)
    try:
        assert adapter.key_form == KeyForm(entry.key_form)
        assert adapter.is_sandbox == (entry.env_prefix is None)
        if entry.statuses:
            module = sys.modules[type(adapter).__module__]
            assert registry.load(entry.statuses) == module.STATUSES
        assert getattr(adapter, "base_url", None) in (None, entry.default_base_url)
    finally:
        adapter.close()


def test_the_receiver_serves_every_provider_with_a_verifier() -> None:
    receiver = Receiver(Path("unused.sqlite"), Environment(Emulator().env()))
    assert set(receiver.verifiers) == {"oxapay", "thedex", "pontis", "2328io"}
    assert receiver.handle("sandbox", {}, b"{}").status == 404


def test_the_emulation_reads_its_environment_names_from_the_registry() -> None:
    env = Emulator().env("http://127.0.0.1:9")
    expected: set[str] = set()
    for name in ("oxapay", "thedex", "pontis", "2328io"):
        entry = registry.entry(name)
        expected |= set(entry.credential_vars) | set(entry.optional_vars) | {entry.var("BASE_URL")}
        assert env[entry.var("BASE_URL")] == "http://127.0.0.1:9" + entry.emulator_path
        assert PREFIXES[entry.emulator_path] == name
    assert set(env) == expected
    assert env["BATCHPAY_OXAPAY_BASE_URL"] == "http://127.0.0.1:9/oxapay/v1"
    assert env["BATCHPAY_2328IO_BASE_URL"] == "http://127.0.0.1:9/2328io/api"


def test_the_registry_imports_the_standard_library_only() -> None:
    """So the emulation may read it without importing an adapter, and it stays cheap."""
    tree = ast.parse(Path(batchpay.registry.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            imported.add((node.module or "").split(".")[0])
    assert imported - {"__future__"} <= sys.stdlib_module_names


def _load(path: str) -> Callable[..., Any]:
    loaded: Callable[..., Any] = registry.load(path)
    return loaded


@pytest.mark.parametrize("entry", registry.entries(), ids=lambda e: e.name)
def test_every_named_factory_and_verifier_exists(entry: ProviderEntry) -> None:
    assert callable(_load(entry.adapter))
    if entry.verifier is not None:
        assert callable(_load(entry.verifier))
