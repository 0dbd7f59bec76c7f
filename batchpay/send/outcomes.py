"""Answers -> ledger outcomes: what a provider's answer (or its absence) records for a row."""

from __future__ import annotations

from concurrent.futures import Future

from batchpay.ledger import LedgerRow, Outcome
from batchpay.model import ACCEPTED, FINAL, RowStatus
from batchpay.providers.base import Answer, Disposition, PayoutRequest, same_address

NOT_SENT = (
    "the provider has no payout for this row: it was never sent. Run the same `batchpay run`"
    " command again, or `batchpay retry`, to send it"
)


def outcome(attempt_id: int, row: LedgerRow, answer: Answer) -> Outcome:
    """What ``answer`` to a request about ``row`` records, checked against the ledger's row."""
    status = answer.status
    error_code, error_message = answer.error_code, answer.error_message
    if answer.disposition is Disposition.NOT_SENT:
        status = RowStatus.PLANNED if row.status is RowStatus.PLANNED else RowStatus.UNKNOWN
    elif answer.disposition is Disposition.RETRY:
        status = RowStatus.UNKNOWN  # retries ran out; the same key resolves it later
    elif status in ACCEPTED or status in FINAL:
        mismatch = _mismatch(row, answer)
        if mismatch:
            status, error_code, error_message = RowStatus.NEEDS_REVIEW, "mismatch", mismatch
    return Outcome(
        attempt_id=attempt_id,
        row_key=row.row_key,
        status=status,
        disposition=str(answer.disposition),
        answer=answer,
        error_code=error_code,
        error_message=error_message,
        amount_sent=row.amount if status in ACCEPTED else None,
    )


def not_found(attempt_id: int, row: LedgerRow, *, resend: bool, send: bool) -> Outcome:
    """A settling lookup found nothing. ``resend``: "not found" proves the row was never
    sent; ``send``: it is sent again now (else it waits, marked ``not_sent``)."""
    if resend and not send:
        return Outcome(
            attempt_id,
            row.row_key,
            RowStatus.UNKNOWN,
            "not_found",
            error_code="not_sent",
            error_message=NOT_SENT,
        )
    if resend:
        return Outcome(attempt_id, row.row_key, None, "not_found")
    return Outcome(
        attempt_id,
        row.row_key,
        RowStatus.UNKNOWN,
        "not_found",
        error_code="not_found_yet",
        error_message="not at the provider yet; run again later to resolve",
    )


def missing(attempt_id: int, row: LedgerRow) -> Outcome:
    """A refresh found nothing for a payout the provider had accepted."""
    return Outcome(
        attempt_id,
        row.row_key,
        RowStatus.NEEDS_REVIEW,
        "not_found",
        error_code="missing_at_provider",
        error_message="the provider accepted this payout but no longer finds it",
    )


def paid_elsewhere(attempt_id: int, row: LedgerRow, reason: str) -> Outcome:
    """A retry held back because another batch has claimed the row."""
    return Outcome(
        attempt_id,
        row.row_key,
        RowStatus.NEEDS_REVIEW,
        "not_sent",
        error_code="paid_elsewhere",
        error_message=reason,
    )


def _mismatch(row: LedgerRow, answer: Answer) -> str | None:
    if answer.amount is not None and answer.amount != row.amount:
        return f"the provider holds amount {answer.amount}, the ledger {row.amount}"
    if (
        answer.address is not None
        and row.address is not None
        and not same_address(row.address, answer.address)
    ):
        return "the provider holds a different address for this key"
    return None


def result(future: Future[Answer]) -> Answer:
    """An adapter bug must not lose the outcome: treat it as unknown, resolve later."""
    try:
        return future.result()
    except Exception as exc:
        return adapter_failed(exc)


def adapter_failed(exc: Exception) -> Answer:
    """What an adapter that raised told us: nothing, so the payout is unknown (never failed,
    never "not found"); only the exception's type is kept, never its text."""
    return Answer(
        RowStatus.UNKNOWN,
        Disposition.UNKNOWN,
        error_code="internal_error",
        error_message=f"{type(exc).__name__} in the provider adapter",
    )


def intent_view(request: PayoutRequest) -> dict[str, str | None]:
    return {
        "key": request.key,
        "amount": format(request.amount, "f"),
        "currency": request.currency,
        "network": request.network,
        "address": request.address,
        "memo": request.memo,
    }


def lease_ran_out(worker: str) -> Answer:
    """A request held back because this worker's lease on the row ran out before it could
    leave (another worker may have taken the row over): unknown, so whoever settles the row
    looks it up before anything is sent again."""
    return Answer(
        RowStatus.UNKNOWN,
        Disposition.UNKNOWN,
        error_code="lease_expired",
        error_message=f"worker {worker}'s lease on the row ran out before its request left",
    )
