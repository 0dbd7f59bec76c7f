"""The web app over HTTP (a real uvicorn on 127.0.0.1, port 0): accounts, sessions, CSRF,
roles, upload and problems, the four-eyes steps, the run and its reports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from batchpay.approvals.keys import SigningKey
from batchpay.config import Settings
from batchpay.ledger import Ledger
from tests.approvals.helpers import new_key
from tests.conftest import TRON
from tests.web.conftest import PASSWORD, Web, csrf_of, login, web_app, web_key
from tests.web.helpers import (
    approved,
    digest_on,
    good_sheet,
    messy_sheet,
    post_form,
    submitted,
    upload,
    wait_for_job,
    zip_bomb,
)

CLI_KEYS: dict[str, SigningKey] = {"bob": new_key()}  # a person's command-line key


def test_a_visitor_is_sent_to_sign_in(web: Web) -> None:
    answer = web.client().get("/")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/"


def test_session_cookie_is_httponly_strict_and_secure_behind_tls(web: Web) -> None:
    client = web.client()
    plain = client.get("/login").headers["set-cookie"].lower()
    assert "httponly" in plain and "samesite=strict" in plain and "secure" not in plain
    proxied = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in proxied.headers["set-cookie"].lower()


def test_wrong_password_then_rate_limit_per_user_and_address(web: Web) -> None:
    client = web.client()
    for _ in range(5):
        assert login(client, "alice", "wrong password!") == 401
    assert login(client, "alice", PASSWORD) == 429  # even the right one, for now
    assert login(client, "bob", PASSWORD) == 303  # another user is not held up
    web.clock.now += 901
    assert login(web.client(), "alice", PASSWORD) == 303


def test_a_post_without_its_csrf_token_is_refused(web: Web) -> None:
    alice = web.signed_in("alice")
    answer = alice.post(
        "/batches/new",
        data={"batch": "b1", "provider": "sandbox"},
        files={"sheet": ("p.csv", good_sheet(), "text/csv")},
    )
    assert answer.status_code == 403
    assert "did not come from this site" in answer.text
    wrong = alice.post("/logout", data={"csrf": "forged"})
    assert wrong.status_code == 403
    assert not (web.config.upload_dir / "b1").exists()


def test_messy_sheet_shows_row_column_value_and_fix_and_the_marked_up_copy(web: Web) -> None:
    alice = web.signed_in("alice")
    answer = upload(alice, "nov", messy_sheet())
    assert answer.status_code == 200
    rows = re.findall(
        r'<tr class="sev-error">\s*<td [^>]*>(\d+)</td>\s*<td [^>]*>([^<]*)</td>'
        r"\s*<td [^>]*><code>([^<]*)</code>",
        answer.text,
    )
    assert ("2", "amount", "12O.00") in rows
    assert any(r[0] == "3" and r[1] == "network" for r in rows)
    assert any(r[0] == "4" and r[1] == "address" for r in rows)
    assert "Download the sheet with each problem marked" in answer.text
    marked = alice.get("/batches/nov/annotated")
    assert marked.status_code == 200 and marked.content[:2] == b"PK"
    assert "Submit for approval" not in alice.get("/batches/nov/review").text


def test_a_zip_bomb_and_an_oversized_upload_are_refused(web: Web) -> None:
    alice = web.signed_in("alice")
    answer = upload(alice, "bomb", zip_bomb(), "payroll.xlsx")
    assert answer.status_code == 400
    assert "zip bomb" in answer.text
    assert "payroll.xlsx: part xl/worksheets/sheet1.xml expands" in answer.text
    assert str(web.config.upload_dir) not in answer.text  # no server path is shown
    assert not (web.config.upload_dir / "bomb").exists()
    big = upload(alice, "big", b"x" * (5 * 1024 * 1024))
    assert big.status_code == 413


def test_roles_viewer_neither_approves_nor_runs_preparer_not_own(web: Web) -> None:
    alice, vera = web.signed_in("alice"), web.signed_in("vera")
    assert upload(alice, "nov", good_sheet()).status_code == 303
    review = alice.get("/batches/nov/review").text
    post_form(alice, "/batches/nov/review", "/batches/nov/submit", digest=digest_on(review))
    assert vera.get("/batches/new").status_code == 403
    assert vera.get("/batches/nov/approve").status_code == 403
    token = csrf_of(vera.get("/").text)
    assert vera.post("/batches/nov/approve", data={"csrf": token}).status_code == 403
    assert vera.post("/batches/nov/run", data={"csrf": token}).status_code == 403
    own = alice.get("/batches/nov/approve")  # alice is a preparer: no approver role
    assert own.status_code == 403
    adam = web.signed_in("adam")  # an admin who uploads may not approve their own batch
    assert upload(adam, "dec", good_sheet()).status_code == 303
    review = adam.get("/batches/dec/review").text
    post_form(adam, "/batches/dec/review", "/batches/dec/submit", digest=digest_on(review))
    mine = adam.get("/batches/dec/approve")
    assert mine.status_code == 403 and "another person must approve" in mine.text
    assert alice.post("/batches/nov/run", data={"csrf": csrf_of(review)}).status_code in (403,)


def test_a_batch_is_paid_only_after_approval(web: Web) -> None:
    alice = web.signed_in("alice")
    assert upload(alice, "nov", good_sheet()).status_code == 303
    answer = post_form(alice, "/", "/batches/nov/run")
    assert answer.status_code == 403 and "needs its approval" in answer.text
    assert not web.settings.ledger.exists() or Ledger(web.settings.ledger).batch("nov") is None


def test_flow_run_progress_rows_retry_and_reports_match_the_cli(web: Web, workdir: Path) -> None:
    approved(web, "nov", ("100.00", "250.02", "75.02"))  # .02: the sandbox fails the row
    alice = web.signed_in("alice")
    assert post_form(alice, "/batches/nov/run", "/batches/nov/run").status_code == 303
    final = wait_for_job(alice, "nov")
    assert final["finished"] is True and final["exit_code"] == 3 and final["total"] == 3
    page = alice.get("/batches/nov/run?status=failed").text
    assert page.count('name="row"') == 2 and "250.02" in page and "100.00 USDT" not in page
    answer = post_form(alice, "/batches/nov/run", "/batches/nov/retry", row="3")
    assert answer.status_code == 303
    assert wait_for_job(alice, "nov")["finished"] is True
    with Ledger(web.settings.ledger) as ledger:
        attempts = {r.sheet_row: r.attempt_no for r in ledger.rows("nov")}
        assert ledger.require_batch("nov").sheet_name == "payroll.csv"  # as uploaded
    assert attempts == {2: 1, 3: 2, 4: 1}  # only the ticked failed row was sent again
    with Ledger(web.settings.ledger) as ledger:
        before = ledger.require_batch("nov").refreshed_at
    answer = post_form(alice, "/batches/nov/run", "/batches/nov/refresh")
    assert answer.status_code == 303
    refreshed = wait_for_job(alice, "nov")
    assert refreshed["action"] == "status" and refreshed["finished"] is True
    with Ledger(web.settings.ledger) as ledger:
        info = ledger.require_batch("nov")
    assert info.refreshed_at is not None and info.refreshed_at != before  # status asked
    listing = alice.get("/batches/nov/reports").text
    names = re.findall(r'/batches/nov/reports/([\w.-]+)"', listing)
    assert {"reconciliation.html", "reconciliation.csv", "reconciliation.xlsx"} <= set(names)
    downloaded = {n: alice.get(f"/batches/nov/reports/{n}").content for n in names}
    cli = subprocess.run(
        [
            Path(sys.executable).parent / "batchpay",
            "report",
            "--batch",
            "nov",
            "--ledger",
            str(web.settings.ledger),
            "--report-dir",
            str(workdir / "cli"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    for name, content in downloaded.items():
        assert (workdir / "cli" / name).read_bytes() == content, name
    actions = [(b, u, a) for b, u, a in web.audited if b == "nov"]
    assert ("nov", "alice", "upload") in actions and ("nov", "bob", "approve") in actions
    assert ("nov", "alice", "run") in actions and ("nov", "alice", "retry") in actions
    assert ("nov", "alice", "status") in actions


def test_a_changed_or_new_payee_needs_its_own_tick(web: Web) -> None:
    approved(web, "nov", ("100.00", "250.50"))
    alice = web.signed_in("alice")
    post_form(alice, "/batches/nov/run", "/batches/nov/run")
    assert wait_for_job(alice, "nov")["exit_code"] == 0
    moved = (TRON[0], TRON[3], TRON[2])  # E-002 now to another wallet; E-003 is new
    submitted(web, "dec", good_sheet(("110.00", "260.50", "75.25"), moved))
    bob = web.signed_in("bob")
    form = bob.get("/batches/dec/approve").text
    assert re.findall(r'name="ack" value="([^"]+)"', form) == ["E-002", "E-003"]
    assert TRON[1] in form and TRON[3] in form  # before and after
    fields = {"csrf": csrf_of(form), "digest": digest_on(form)}
    half = bob.post("/batches/dec/approve", data={**fields, "ack": ["E-002"]})
    assert half.status_code == 409 and "E-003" in half.text
    done = bob.post("/batches/dec/approve", data={**fields, "ack": ["E-002", "E-003"]})
    assert done.status_code == 303


def test_a_forged_or_altered_session_cookie_signs_no_one_in(web: Web) -> None:
    alice = web.signed_in("alice")
    assert alice.get("/").status_code == 200
    value = alice.cookies["batchpay_session"]
    forged = value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB")
    stranger = web.client()
    stranger.cookies.set("batchpay_session", forged)
    assert stranger.get("/").status_code == 303


def test_after_signing_in_only_a_path_on_this_site_is_followed(web: Web) -> None:
    client = web.client()
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"csrf": token, "name": "vera", "password": PASSWORD, "next": "//evil.example/x"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_an_uploaded_file_name_never_chooses_a_path(web: Web) -> None:
    alice = web.signed_in("alice")
    answer = upload(alice, "nov", good_sheet(), "../../../etc/pay roll<1>.csv")
    assert answer.status_code == 303
    stored = list((web.config.upload_dir / "nov").rglob("*.csv"))
    assert [p.relative_to(web.config.upload_dir).as_posix() for p in stored] == [
        "nov/sheet/pay roll_1_.csv"
    ]


def _four_eyes(workdir: Path, people: list[tuple[str, str, str]]) -> Settings:
    """An approvers file listing, per (person, role, account), that web account's key
    (``cli:NAME``: a command-line key of its own instead)."""
    from tests.approvals.helpers import four_eyes

    listed = [(person, role, CLI_KEYS[a[4:]] if a.startswith("cli:") else web_key(a)[0])
              for person, role, a in people]  # fmt: skip
    (workdir / "batchpay.toml").write_text('approvers = "approvers.toml"\n', encoding="utf-8")
    return four_eyes(workdir, listed)  # and batchpay.toml names it, for the commands


def _audit_verify(settings: Settings, batch: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [Path(sys.executable).parent / "batchpay", "audit", "verify", "--batch", batch,
         "--ledger", str(settings.ledger)],
        capture_output=True, text=True, check=False, cwd=settings.approvers.parent,  # type: ignore[union-attr]
    )  # fmt: skip


def test_with_four_eyes_web_signatures_count_like_the_clis_and_the_run_pays(
    workdir: Path,
) -> None:
    from batchpay import fouryes_api
    from batchpay.approvals.policy import standing
    from batchpay.approvals.roster import load_roster
    from batchpay.ledger.fouryes import approvals, submission
    from tests.approvals.helpers import sent_requests

    settings = _four_eyes(workdir, [("Alice Finance", "preparer", "alice"),
                                    ("Bob Approver", "approver", "cli:bob"),
                                    ("Bob Approver", "approver", "bob")])  # fmt: skip
    with web_app(settings, workdir, ledger_audit=True) as served:
        approved(served, "nov")  # alice submits, bob approves: each types the password
        with Ledger(settings.ledger) as ledger:
            sub = submission(ledger, "nov")
            given = approvals(ledger, "nov")
        assert sub is not None and sub.preparer == "Alice Finance"
        assert sub.fingerprint == web_key("alice")[0].fingerprint
        assert [(a.approver, a.via, a.fingerprint) for a in given] == [
            ("Bob Approver", "web", web_key("bob")[0].fingerprint)
        ]
        # bob's command-line key approves too: one person, counted once
        again = fouryes_api.approve("nov", settings=settings, digest=sub.digest,
                                    key=CLI_KEYS["bob"])  # fmt: skip
        assert again.counted == ["Bob Approver"]
        alice = served.signed_in("alice")
        assert post_form(alice, "/batches/nov/run", "/batches/nov/run").status_code == 303
        assert wait_for_job(alice, "nov")["exit_code"] == 0
    assert sent_requests(settings, "nov") == 2
    with Ledger(settings.ledger) as ledger:
        found = standing(ledger, load_roster(workdir / "approvers.toml"), "nov")
    assert [p.name for _, p in found.counted] == ["Bob Approver"]
    verified = _audit_verify(settings, "nov")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Alice Finance: submit via web (web account alice)" in verified.stdout
    assert "Bob Approver: approve via web (web account bob)" in verified.stdout
    assert "alice: web:upload via web" in verified.stdout
    assert "alice: web:run via web" in verified.stdout


def test_a_wrong_step_up_password_signs_nothing_and_counts_against_the_log_in_limit(
    workdir: Path,
) -> None:
    from batchpay.ledger.fouryes import audit_entries, submission

    settings = _four_eyes(workdir, [("Alice Finance", "preparer", "alice"),
                                    ("Bob Approver", "approver", "bob")])  # fmt: skip
    with web_app(settings, workdir, ledger_audit=True) as served:
        alice = served.signed_in("alice")
        assert upload(alice, "nov", good_sheet()).status_code == 303
        page = alice.get("/batches/nov/review").text
        assert 'name="password"' in page and "to sign with your key" in page
        for _ in range(5):
            wrong = post_form(alice, "/batches/nov/review", "/batches/nov/submit",
                              digest=digest_on(page), password="not my password")  # fmt: skip
            assert wrong.status_code == 401 and "nothing was signed" in wrong.text
        with Ledger(settings.ledger) as ledger:
            assert submission(ledger, "nov") is None  # nothing recorded
            refused = [e.action for e in audit_entries(ledger, "nov")]
        assert refused.count("web:step-up refused") == 5
        held = post_form(alice, "/batches/nov/review", "/batches/nov/submit",
                         digest=digest_on(page), password=PASSWORD)  # fmt: skip
        assert held.status_code == 429  # the log-in limit: even the right one, for now
        assert login(served.client(), "alice") == 429
        served.clock.now += 901
        submitted_now = post_form(alice, "/batches/nov/review", "/batches/nov/submit",
                                  digest=digest_on(page), password=PASSWORD)  # fmt: skip
        assert submitted_now.status_code == 303


def test_a_web_key_not_in_the_approvers_file_counts_for_nothing(workdir: Path) -> None:
    from batchpay.ledger.fouryes import approvals
    from tests.approvals.helpers import sent_requests

    settings = _four_eyes(workdir, [("Alice Finance", "preparer", "alice"),
                                    ("Bob Approver", "approver", "cli:bob")])  # fmt: skip
    with web_app(settings, workdir, ledger_audit=True) as served:
        submitted(served, "nov", good_sheet())
        bob = served.signed_in("bob")
        form = bob.get("/batches/nov/approve").text
        fields = {"csrf": csrf_of(form), "digest": digest_on(form), "password": PASSWORD}
        refused = bob.post("/batches/nov/approve", data=fields)
        assert refused.status_code == 409 and "not in the approvers file" in refused.text
        assert "batchpay users key bob" in refused.text
        with Ledger(settings.ledger) as ledger:
            assert approvals(ledger, "nov") == []
        run = subprocess.run(
            [Path(sys.executable).parent / "batchpay", "run", "--batch", "nov", "--yes",
             "--ledger", str(settings.ledger)],
            capture_output=True, text=True, check=False, cwd=workdir,
        )  # fmt: skip
        assert run.returncode == 5, run.stdout + run.stderr
    assert sent_requests(settings, "nov") == 0


def test_the_preparer_may_not_approve_through_another_web_account(workdir: Path) -> None:
    settings = _four_eyes(workdir, [("Alice Finance", "approver", "alice"),
                                    ("Alice Finance", "approver", "adam"),
                                    ("Bob Approver", "approver", "bob")])  # fmt: skip
    with web_app(settings, workdir, ledger_audit=True) as served:
        submitted(served, "nov", good_sheet())
        adam = served.signed_in("adam")  # another account, the same person
        form = adam.get("/batches/nov/approve").text
        fields = {"csrf": csrf_of(form), "digest": digest_on(form), "password": PASSWORD}
        mine = adam.post("/batches/nov/approve", data=fields)
        assert mine.status_code == 409 and "Alice Finance prepared batch" in mine.text


def test_an_account_without_a_key_gets_one_at_its_next_log_in(web: Web) -> None:
    from batchpay.ledger.users import add_user, get_user
    from batchpay.web.accounts import hash_password
    from batchpay.web.signing import unseal

    with Ledger(web.settings.ledger) as ledger:  # as made before schema 8
        add_user(ledger, "olga", "approver", hash_password(PASSWORD))
    assert login(web.client(), "olga") == 303
    with Ledger(web.settings.ledger) as ledger:
        user = get_user(ledger, "olga")
    assert user is not None and user.public_key and user.sealed_key
    assert user.public_key.endswith(" olga (batchpay web)")
    assert unseal(user.sealed_key, "olga", PASSWORD) is not None


def test_with_four_eyes_the_run_page_counts_the_ledgers_signed_approvals(workdir: Path) -> None:
    """Two approvals needed: bob's in the browser is one; carol's from the command line is
    the second, and the page then offers to pay."""
    from batchpay import fouryes_api
    from tests.approvals.helpers import four_eyes

    carol = new_key()
    settings = four_eyes(workdir, [("Alice Finance", "preparer", web_key("alice")[0]),
                                   ("Bob Approver", "approver", web_key("bob")[0]),
                                   ("Carol Audit", "approver", carol)], approvals=2)  # fmt: skip
    with web_app(settings, workdir, ledger_audit=True) as served:
        approved(served, "nov")
        alice = served.signed_in("alice")
        page = alice.get("/batches/nov/run").text
        assert "Pay this batch" not in page
        assert "1 of the 2 signed approvals it needs: Bob Approver" in page
        refused = post_form(alice, "/batches/nov/run", "/batches/nov/run")
        assert refused.status_code == 403
        fouryes_api.approve("nov", settings=settings, acks=(), key=carol, confirm=lambda v: True)
        page = alice.get("/batches/nov/run").text
        assert "Approved by Bob Approver, Carol Audit." in page and "Pay this batch" in page
        assert post_form(alice, "/batches/nov/run", "/batches/nov/run").status_code == 303
        assert wait_for_job(alice, "nov")["exit_code"] == 0
