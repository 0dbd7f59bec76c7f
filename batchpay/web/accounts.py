"""Passwords (argon2id through argon2-cffi) and the log-in rate limit."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2id, the library's current recommended parameters

MIN_PASSWORD = 10  # characters


def check_new_password(password: str) -> str | None:
    """Why ``password`` may not be used, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    return None


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) stored for ``password``."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash; never raises."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


class LoginLimiter:
    """At most ``attempts`` failed log-ins per (user, client address) within ``window``
    seconds; a success clears the count. ``clock`` is injectable so tests need no sleep."""

    def __init__(
        self,
        attempts: int = 5,
        window: float = 900.0,  # float-ok: seconds
        clock: Callable[[], float] = time.monotonic,  # float-ok
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)  # float-ok
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:  # float-ok
        failures = self._failures[key]
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def blocked(self, user: str, address: str) -> float | None:  # float-ok
        """Seconds until another try is allowed, or None when one is allowed now."""
        with self._lock:
            failures = self._recent((user.lower(), address))
            if len(failures) < self.attempts:
                return None
            return max(1.0, failures[0] + self.window - self.clock())

    def failed(self, user: str, address: str) -> None:
        with self._lock:
            self._recent((user.lower(), address)).append(self.clock())

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            self._failures.pop((user.lower(), address), None)
