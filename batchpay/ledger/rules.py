"""Which answer may move a row, and where: the ledger applies the judgement of
:mod:`batchpay.statuses`, which sits beside ``RowStatus`` so the final status is decided in
one place."""

from __future__ import annotations

from batchpay.statuses import DEAD, Verdict, judge, may_move

__all__ = ["DEAD", "Verdict", "judge", "may_move"]
