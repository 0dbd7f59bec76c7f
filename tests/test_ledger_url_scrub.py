"""A password typed into a ledger URL with an unescaped ``@`` is read by the driver as part
of the host, and the driver's error quotes that "host" back: the message must not show it."""

from __future__ import annotations

import pytest

from batchpay.ledger.connection import ledger_error
from batchpay.ledger.location import LedgerUrl, parse_location, scrub

URL = "postgresql://payroll:se@cretXYZ@127.0.0.1:5432/payouts"


def test_a_drivers_message_quoting_the_password_as_host_is_scrubbed() -> None:
    location = parse_location(URL)
    assert isinstance(location, LedgerUrl)
    driver = RuntimeError("failed to resolve host 'cretXYZ@127.0.0.1': Name or service not known")
    error = ledger_error(location, driver)
    assert "cretXYZ" not in str(error)
    assert str(error) == (
        "the ledger postgresql://payroll:***@127.0.0.1:5432/payouts failed: failed to resolve "
        "host '***@127.0.0.1': Name or service not known"
    )


@pytest.mark.parametrize(
    ("url", "text", "expected"),
    [
        (URL, "host 'cretXYZ@127.0.0.1'", "host '***@127.0.0.1'"),
        (URL, "password se@cretXYZ was wrong", "password *** was wrong"),
        ("postgresql://u@h/db?password=qwerty123&x=1", "bad qwerty123", "bad ***"),
        ("postgresql://u@h/db", "user u: nothing secret", "user u: nothing secret"),
    ],
)
def test_scrub_hides_every_piece_of_the_typed_password(url: str, text: str, expected: str) -> None:
    assert scrub(text, url) == expected
