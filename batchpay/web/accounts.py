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
    seconds, and at most ``per_name`` per user from all addresses together (an address can be
    many: a client the proxy trusts names any in ``X-Forwarded-For``); a success clears the
    user's counts. Names are compared trimmed and case-folded. ``clock`` is injectable so
    tests need no sleep."""

    def __init__(
        self,
        attempts: int = 5,
        window: float = 900.0,  # float-ok: seconds
        clock: Callable[[], float] = time.monotonic,  # float-ok
        per_name: int = 20,
    ) -> None:
        self.attempts = attempts
        self.per_name = per_name
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
        name = _key(user)
        with self._lock:
            waits = [
                max(1.0, failures[0] + self.window - self.clock())
                for failures, most in (
                    (self._recent((name, address)), self.attempts),
                    (self._recent((name, ANY_ADDRESS)), self.per_name),
                )
                if len(failures) >= most
            ]
            return max(waits) if waits else None

    def failed(self, user: str, address: str) -> None:
        name = _key(user)
        with self._lock:
            self._recent((name, address)).append(self.clock())
            self._recent((name, ANY_ADDRESS)).append(self.clock())

    def succeeded(self, user: str, address: str) -> None:
        name = _key(user)
        with self._lock:
            self._failures.pop((name, address), None)
            self._failures.pop((name, ANY_ADDRESS), None)


ANY_ADDRESS = "(any address)"  # not an address a client can have


def _key(user: str) -> str:
    return user.strip().casefold()
