"""A local emulation of the four providers' payout APIs, as strict as the real ones.

``Emulator.handle`` is the core; :meth:`Emulator.transport` serves it to an httpx client in
process, and :mod:`batchpay.emulator.server` serves it over loopback HTTP (``batchpay sandbox``).
Paths are prefixed by provider: ``/oxapay/v1``, ``/thedex``, ``/pontis``, ``/2328io/api``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from batchpay import registry
from batchpay.emulator.base import EmuProvider
from batchpay.emulator.core import Barrier, EmuRequest, EmuResponse, Fault, Faults, Gate
from batchpay.emulator.keys import EmulatorKeys
from batchpay.emulator.oxapay import EmuOxaPay
from batchpay.emulator.pay2328 import Emu2328
from batchpay.emulator.pontis import EmuPontis
from batchpay.emulator.thedex import EmuTheDex

__all__ = [
    "Barrier",
    "EmuRequest",
    "EmuResponse",
    "Emulator",
    "EmulatorKeys",
    "Fault",
    "Faults",
    "Gate",
]

EMULATED = ("oxapay", "thedex", "pontis", "2328io")
# where each provider is served: /<name> plus its base URL's path (/oxapay/v1, /2328io/api)
PREFIXES = {registry.entry(name).emulator_path: name for name in EMULATED}
BASE_URL = "http://emulator.invalid"


class Emulator:
    def __init__(
        self,
        keys: EmulatorKeys | None = None,
        clock: Callable[[], float] = time.time,  # float-ok: unix seconds
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:  # float-ok
        self.keys = keys or EmulatorKeys()
        self.faults = Faults()
        classes: dict[str, type[EmuProvider]] = {
            "oxapay": EmuOxaPay,
            "thedex": EmuTheDex,
            "pontis": EmuPontis,
            "2328io": Emu2328,
        }
        self.providers = {
            name: cls(self.keys, self.faults, clock, sleep) for name, cls in classes.items()
        }

    def __getitem__(self, name: str) -> EmuProvider:
        return self.providers[name]

    def handle(self, request: EmuRequest) -> EmuResponse:
        for prefix, name in PREFIXES.items():
            if request.path == prefix or request.path.startswith(prefix + "/"):
                inner = EmuRequest(
                    request.method,
                    request.path[len(prefix) :] or "/",
                    request.headers,
                    request.body,
                    request.query,
                )
                return self.providers[name].handle(inner)
        return EmuResponse(404, b'{"error":"unknown provider prefix"}')

    def env(self, base_url: str = BASE_URL) -> dict[str, str]:
        return self.keys.env(base_url)

    def transport(self) -> httpx.MockTransport:
        """Serve the emulation to an httpx client in process; a dropped answer is a timeout."""

        def handler(request: httpx.Request) -> httpx.Response:
            response = self.handle(
                EmuRequest.build(
                    request.method,
                    request.url.path,
                    dict(request.headers),
                    request.read(),
                    request.url.query.decode(),
                )
            )
            if response.drop:
                raise httpx.ReadTimeout("emulation dropped the answer", request=request)
            return httpx.Response(response.status, headers=response.headers, content=response.body)

        return httpx.MockTransport(handler)
