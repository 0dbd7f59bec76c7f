"""Every Problem made while the tests run is held to the catalogue: its code has an entry, its
severity is the entry's, and its message has one of the entry's forms.

The check wraps ``Problem.__init__`` for the test session only (nothing is checked in
production), and fails the test that made a stray problem, at its teardown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from batchpay.catalogue import Entry, catalogue, template_pattern
from batchpay.problems import Problem

MESSAGES_CHECKED = 50  # per code and test: a sheet of 100k bad rows need not be matched 100k times

_stray: list[str] = []


def matches(entry: Entry, message: str) -> bool:
    """Whether ``message`` has one of the entry's forms."""
    return any(template_pattern(t).fullmatch(message) for t in entry.messages)


_matched: Counter[str] = Counter()


def _check(problem: Problem) -> None:
    found = catalogue().get(problem.code)
    if found is None:
        _stray.append(f"{problem.code!r} is not in the catalogue (add it to schemas/problems.toml)")
        return
    if not found.allows(str(problem.severity)):
        _stray.append(
            f"{problem.code!r} is emitted as {problem.severity}, the catalogue says "
            f"{found.severity}"
        )
    if _matched[problem.code] < MESSAGES_CHECKED:
        _matched[problem.code] += 1
        if not matches(found, problem.message):
            _stray.append(
                f"{problem.code!r}: message {problem.message!r} has none of the catalogue's "
                f"forms {list(found.messages)}"
            )


@pytest.fixture(scope="session", autouse=True)
def _problems_checked_against_catalogue() -> Iterator[None]:
    original = Problem.__init__

    def checked(self: Problem, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _check(self)

    Problem.__init__ = checked  # type: ignore[method-assign]
    try:
        yield
    finally:
        Problem.__init__ = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _problems_catalogued(_problems_checked_against_catalogue: None) -> Iterator[None]:
    _stray.clear()
    _matched.clear()
    yield
    stray = list(dict.fromkeys(_stray))
    _stray.clear()
    assert not stray, "problems that do not match the catalogue:\n" + "\n".join(stray)
