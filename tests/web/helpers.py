"""Sheets and steps the web tests share."""

from __future__ import annotations

import io
import json
import zipfile

import httpx

from tests.conftest import TRON
from tests.web.conftest import PASSWORD, Web, csrf_of

HEADER = "reference,name,amount,currency,network,address,memo,description"


def good_sheet(
    amounts: tuple[str, ...] = ("100.00", "250.50", "75.25"), addresses: tuple[str, ...] = ()
) -> bytes:
    """USDT on TRON for E-001, E-002 ... (``addresses`` in place of the usual ones)."""
    wallets = addresses or tuple(TRON[i % len(TRON)] for i in range(len(amounts)))
    lines = [HEADER] + [
        f"E-{i + 1:03d},Person {i + 1},{a},USDT,TRON,{wallets[i]},,November"
        for i, a in enumerate(amounts)
    ]
    return ("\n".join(lines) + "\n").encode()


def messy_sheet() -> bytes:
    """Three problems: an amount that is not a number, an unknown network, a bad address."""
    lines = [
        HEADER,
        f"E-001,Person 1,12O.00,USDT,TRON,{TRON[0]},,November",
        f"E-002,Person 2,250.50,USDT,MOONCHAIN,{TRON[1]},,November",
        "E-003,Person 3,75.25,USDT,TRON,not-an-address,,November",
    ]
    return ("\n".join(lines) + "\n").encode()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (50 * 1024 * 1024) + b"/>")
    return buffer.getvalue()


def upload(
    client: httpx.Client, batch: str, data: bytes, filename: str = "payroll.csv"
) -> httpx.Response:
    token = csrf_of(client.get("/batches/new").text)
    return client.post(
        "/batches/new",
        data={"csrf": token, "batch": batch, "provider": "sandbox"},
        files={"sheet": (filename, data, "application/octet-stream")},
    )


def post_form(
    client: httpx.Client, page: str, action: str, **fields: str | list[str]
) -> httpx.Response:
    """Post the form on ``page`` to ``action`` with its CSRF token and ``fields``."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf": token, **fields})


def digest_on(html: str) -> str:
    marker = 'name="digest" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def wait_for_job(client: httpx.Client, batch: str) -> dict[str, object]:
    """Read the batch's server-sent events until the job finishes; the last state."""
    last: dict[str, object] = {}
    with client.stream("GET", f"/batches/{batch}/events") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("data: "):
                last = json.loads(line[6:])
                if last.get("finished"):
                    break
    return last


def submitted(web: Web, batch: str, sheet: bytes) -> None:
    """alice uploads ``sheet`` as ``batch`` and submits it."""
    alice = web.signed_in("alice")
    assert upload(alice, batch, sheet).status_code == 303
    review = alice.get(f"/batches/{batch}/review").text
    answer = post_form(
        alice,
        f"/batches/{batch}/review",
        f"/batches/{batch}/submit",
        digest=digest_on(review),
        password=PASSWORD,  # the step-up, read only with four eyes on
    )
    assert answer.status_code == 303, answer.text


def approved(web: Web, batch: str, amounts: tuple[str, ...] = ("100.00", "250.50")) -> None:
    """alice submits a good sheet with ``amounts``; bob approves it."""
    submitted(web, batch, good_sheet(amounts))
    bob = web.signed_in("bob")
    form = bob.get(f"/batches/{batch}/approve").text
    fields = {"csrf": csrf_of(form), "digest": digest_on(form), "password": PASSWORD}
    answer = bob.post(f"/batches/{batch}/approve", data=fields)
    assert answer.status_code == 303, answer.text
