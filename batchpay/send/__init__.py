"""Stage 4, send: pay planned rows through a provider, under the write-ahead rule.

Order of work for every command that may send:

1. **settle** rows left ``sending`` or ``unknown`` (a crash, a timeout): look each up at the
   provider; if it is there, record it; if it is provably not there, send it again with the
   *same* key. Nothing is sent while any doubt remains.
2. **send** rows in windows: commit every intent of the window in one transaction (one fsync),
   then send the window concurrently under the rate limit, committing answers in groups.

Where each job lives: ``engine`` (the public steps and reconciliation), ``core`` (settings,
rate limit, row -> request), ``settle`` (settle and refresh lookups), ``windows`` (sending in
windows), ``outcomes`` (answers -> ledger outcomes), ``lookups``, ``retry``, ``breaker``,
``ratelimit``.
"""

from __future__ import annotations

from batchpay.progress import Progress
from batchpay.send.engine import Engine
from batchpay.send.retry import RetryPolicy

__all__ = ["Engine", "Progress", "RetryPolicy"]
