"""Where the web app records who did what. WIRE: the four-eyes audit log (h-eyes: the
hash-chained ``audit_entries`` of ledger migration 006) once merged; until then each action
goes to the ``batchpay.web.audit`` logger. Every page action calls :meth:`Ctx.audit`, the one
call site, with the signed-in user's name."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

Audit = Callable[[str, str, str, dict[str, Any]], None]  # (batch, user, action, details)

log = logging.getLogger("batchpay.web.audit")


def log_audit(batch: str, user: str, action: str, details: dict[str, Any]) -> None:
    """The default audit: one log line per action, ``via=web``."""
    log.info("batch=%s user=%s action=%s via=web %s", batch, user, action, details)
