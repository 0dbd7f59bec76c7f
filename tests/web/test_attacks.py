"""An outsider, a viewer, a preparer and an approver attacking the web app over HTTP:
session replay after sign-out, session ids at sign-in, redirects after sign-in, security
headers on every response, posts to actions the role may not take, and markup in a sheet."""

from __future__ import annotations

import pytest

from batchpay.web import library
from tests.web.conftest import PASSWORD, Web, csrf_of
from tests.web.helpers import good_sheet, upload

HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")


def test_a_copy_of_the_cookie_taken_before_signing_out_signs_no_one_in(web: Web) -> None:
    alice = web.signed_in("alice")
    stolen = alice.cookies["batchpay_session"]
    token = csrf_of(alice.get("/").text)
    assert alice.post("/logout", data={"csrf": token}).status_code == 303
    thief = web.client()
    thief.cookies.set("batchpay_session", stolen)
    assert thief.get("/").status_code == 303  # sent to sign in
    again = thief.post("/batches/new", data={"csrf": token, "batch": "x", "provider": "sandbox"})
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_signing_in_makes_a_new_session_and_the_old_token_is_worthless(web: Web) -> None:
    client = web.client()
    before_cookie = client.get("/login").cookies["batchpay_session"]
    before = csrf_of(client.get("/login").text)
    data = {"csrf": before, "name": "alice", "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=data).status_code == 303
    assert client.cookies["batchpay_session"] != before_cookie
    after = csrf_of(client.get("/").text)
    assert after != before
    refused = client.post("/logout", data={"csrf": before})
    assert refused.status_code == 403
    # a second sign-in of the same person is its own session: signing out one keeps the other
    other = web.signed_in("alice")
    assert client.post("/logout", data={"csrf": after}).status_code == 303
    assert other.get("/").status_code == 200


def test_after_signing_in_no_whitespace_trick_leaves_the_site(web: Web) -> None:
    for target in ("/\t/evil.example", "/\n/evil.example", "/ /evil.example", "/\\evil.example"):
        client = web.client()
        token = csrf_of(client.get("/login").text)
        data = {"csrf": token, "name": "vera", "password": PASSWORD, "next": target}
        answer = client.post("/login", data=data)
        assert answer.status_code == 303 and answer.headers["location"] == "/", target
    client = web.client()
    page = client.get("/login", params={"next": "/\t/evil.example"}).text
    assert 'name="next" value="/"' in page


def test_every_response_carries_the_security_headers(web: Web) -> None:
    client = web.client()
    for answer in (
        client.get("/no/such/page"),  # Starlette's own 404
        client.put("/login"),  # 405
        client.get("/static/app.css"),
        client.get("/login"),
    ):
        for name in HEADERS:
            assert name in answer.headers, (answer.request.url, answer.status_code, name)
        assert answer.headers["x-frame-options"] == "DENY"
        policy = answer.headers["content-security-policy"]
        for part in ("default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
            assert part in policy, (answer.request.url, part)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Traceback" not in missing.text


def test_a_viewer_posting_straight_to_each_action_is_refused(web: Web) -> None:
    alice = web.signed_in("alice")
    assert upload(alice, "nov", good_sheet()).status_code == 303
    vera = web.signed_in("vera")
    token = csrf_of(vera.get("/").text)
    for action in ("submit", "approve", "run", "retry", "refresh"):
        answer = vera.post(f"/batches/nov/{action}", data={"csrf": token, "row": "1"})
        assert answer.status_code == 403, action
    new = vera.post("/batches/new", data={"csrf": token, "batch": "v", "provider": "sandbox"})
    assert new.status_code == 403
    assert [a for a in web.audited if a[1] == "vera" and a[2] not in ("login",)] == []


def test_markup_in_a_sheet_or_an_id_is_shown_as_text(web: Web) -> None:
    alice = web.signed_in("alice")
    evil = good_sheet().replace(b"Person 1", b"<script>alert(1)</script>")
    evil = evil.replace(b"USDT,TRON", b"<img src=x onerror=alert(2)>,TRON", 1)
    answer = upload(alice, "xss", evil)
    assert "<script>alert(1)" not in answer.text and "<img src=x" not in answer.text
    bad_id = upload(alice, "<b>x</b>", good_sheet())
    assert bad_id.status_code == 400 and "<b>x</b>" not in bad_id.text
    assert alice.get("/batches/%3Cb%3E/run").status_code == 404


def test_a_fault_in_a_page_shows_no_traceback_and_no_server_path(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_path = str(web.config.upload_dir / "inner" / "ledger.sqlite")

    def broken(*_: object) -> None:
        raise RuntimeError(f"cannot open {secret_path}")

    monkeypatch.setattr(library, "read_report", broken)
    alice = web.signed_in("alice")
    answer = alice.get("/batches/nov/run")
    assert answer.status_code == 500
    assert secret_path not in answer.text and "Traceback" not in answer.text
    assert "went wrong on the server" in answer.text
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_a_row_number_that_is_a_digit_but_not_ascii_is_not_a_row(web: Web) -> None:
    alice = web.signed_in("alice")
    token = csrf_of(alice.get("/").text)
    answer = alice.post("/batches/nov/retry", data={"csrf": token, "row": ["²", "٣x"]})
    assert answer.status_code == 400 and "tick the failed rows" in answer.text


def test_a_csv_with_100000_columns_is_refused_before_it_is_validated(web: Web) -> None:
    alice = web.signed_in("alice")
    lines = good_sheet().decode().splitlines()
    wide = [lines[0] + "".join(f",x{i}" for i in range(100_000))]
    wide += [line + "," * 100_000 for line in lines[1:]]
    answer = upload(alice, "wide", ("\n".join(wide) + "\n").encode(), "wide.csv")
    assert answer.status_code == 400
    assert "100008 columns; batchpay reads at most 1000" in answer.text
    assert str(web.config.upload_dir) not in answer.text
    assert not (web.config.upload_dir / "wide").exists()


def test_a_forged_forwarded_for_or_a_respelt_name_does_not_escape_the_log_in_limit(
    web: Web,
) -> None:
    client = web.client()

    def attempt(name: str, address: str | None = None) -> int:
        token = csrf_of(client.get("/login").text)
        data = {"csrf": token, "name": name, "password": "wrong password!", "next": "/"}
        headers = {"X-Forwarded-For": address} if address else {}
        return client.post("/login", data=data, headers=headers).status_code

    spellings = ["alice", " ALICE ", "Alice", "alice\t"]
    codes = [attempt(spellings[i % 4], f"10.0.{i}.1") for i in range(20)]
    assert codes == [401] * 20  # twenty addresses, one try each
    assert attempt("alice", "10.9.9.9") == 429  # a 21st address is held up too
    assert attempt("ALICE ") == 429
    assert attempt("bob", "10.9.9.9") == 401  # another person is not
    web.clock.now += 901
    token = csrf_of(client.get("/login").text)
    data = {"csrf": token, "name": "alice", "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=data).status_code == 303


def test_no_page_or_event_names_a_path_on_the_server(web: Web) -> None:
    vera = web.signed_in("vera")
    ledger = str(web.settings.ledger)
    assert ledger.startswith("/")
    for url in ("/batches/nope/reports", "/batches/nope/reports/x.csv"):
        answer = vera.get(url)
        assert answer.status_code == 404
        assert "not in the ledger (the ledger)" in answer.text
        assert ledger not in answer.text and str(web.config.upload_dir.parent) not in answer.text
    alice = web.signed_in("alice")
    token = csrf_of(alice.get("/").text)
    assert alice.post("/batches/nope/refresh", data={"csrf": token}).status_code == 303
    with alice.stream("GET", "/batches/nope/events") as events:
        said = "".join(events.iter_lines())
    assert "(the ledger)" in said and ledger not in said
