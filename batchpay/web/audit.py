"""Where the web app records who did what. Every page action calls
:meth:`batchpay.web.core.Ctx.audit`, the one call site, with the signed-in user's name.

:class:`WebAudit` writes each action as one JSON line in ``web-audit.jsonl`` in the upload
folder and, with four eyes on (an approvers file), also appends it to the batch's
hash-chained audit log (:func:`batchpay.approvals.audit.record_audit`) as ``web:ACTION`` by
the web user, ``"via": "web"``. These entries carry no signature: ``audit verify`` checks
them as links of the chain, and ``run`` still counts only signed approvals."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from batchpay.config import Settings

Audit = Callable[[str, str, str, dict[str, Any]], None]  # (batch, user, action, details)


class FileAudit:
    """Append ``{"at", "batch", "user", "action", "via": "web", ...details}`` lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def __call__(self, batch: str, user: str, action: str, details: dict[str, Any]) -> None:
        entry = {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "batch": batch,
            "user": user,
            "action": action,
            "via": "web",
            **details,
        }
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)


class WebAudit:
    """The JSON-lines file always; the ledger's audit chain too when four eyes are on."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.file = FileAudit(path)
        self.settings = settings

    def __call__(self, batch: str, user: str, action: str, details: dict[str, Any]) -> None:
        self.file(batch, user, action, details)
        if batch == "-" or self.settings.approvers is None or not self.settings.ledger.exists():
            return
        from batchpay.approvals.audit import record_audit
        from batchpay.ledger import Ledger

        payload = json.loads(json.dumps({**details, "via": "web"}, default=str))
        with Ledger(self.settings.ledger, create=False) as ledger:
            record_audit(ledger, batch, f"web:{action}", payload, actor=user)
