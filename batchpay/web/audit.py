"""Where the web app records who did what: the ledger's audit log, the same hash-chained
log the commands append to (:func:`batchpay.ledger.fouryes.append_audit`), so a team on one
ledger sees one trail. Every page action calls :meth:`batchpay.web.core.Ctx.audit`, the one
call site, with the signed-in user's name.

- An action on a batch (upload, run, retry, refresh, download, a refused step-up) joins that
  batch's chain as ``web:ACTION`` by the web user, with ``"via": "web"``. Submitting and
  approving with four eyes on are the library's own signed ``submit``/``approve`` entries
  (``via`` web and the ``account``), not written here.
- What concerns no batch (signing in and out, a failed log-in) goes to one chain of its own,
  :data:`NO_BATCH` (``(web)``, which no batch id can be: parentheses are not allowed in one).

These web entries carry no signature: ``audit verify`` checks them as links of the chain."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from batchpay.config import Settings

Audit = Callable[[str, str, str, dict[str, Any]], None]  # (batch, user, action, details)

NO_BATCH = "(web)"  # the chain of what concerns no batch


class LedgerAudit:
    """Append each web action to the ledger's audit log (see the module text)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, batch: str, user: str, action: str, details: dict[str, Any]) -> None:
        from batchpay.ledger import Ledger
        from batchpay.ledger.fouryes import append_audit

        payload = json.loads(json.dumps({**details, "via": "web"}, default=str))
        chain = NO_BATCH if batch in ("", "-") else batch
        with Ledger(self.settings.ledger) as ledger:
            append_audit(ledger, chain, user, f"web:{action}", payload)
