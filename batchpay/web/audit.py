"""Where the web app records who did what. WIRE: the four-eyes audit log (h-eyes: the
hash-chained ``audit_entries`` of ledger migration 006, ``record_audit``) once merged; until
then each action is one JSON line in ``web-audit.jsonl`` in the upload folder. Every page action
calls :meth:`batchpay.web.core.Ctx.audit`, the one call site, with the signed-in user's name."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
