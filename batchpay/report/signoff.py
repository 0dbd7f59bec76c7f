"""Who prepared and who approved a batch (four eyes), as the report shows it: name, key
fingerprint, time and the plan digest, read from the ledger (batchpay.ledger.fouryes). The
report shows what was signed; whether the signatures hold is ``batchpay audit verify``'s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from batchpay.ledger import Ledger


@dataclass(frozen=True)
class Signer:
    name: str
    fingerprint: str
    at: str


@dataclass(frozen=True)
class Signoff:
    digest: str | None = None
    preparer: Signer | None = None
    approvers: list[Signer] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        return bool(self.approvers)


def read_signoff(ledger: Ledger, batch: str) -> Signoff:
    """The batch's submission and the approvals of its digest (not the preparer's own);
    an empty Signoff ("not approved") when four eyes were not used."""
    from batchpay.ledger.fouryes import approvals, submission

    sub = submission(ledger, batch)
    if sub is None:
        return Signoff()
    approved = [
        Signer(a.approver, a.fingerprint, a.approved_at)
        for a in approvals(ledger, batch, sub.digest)
        if a.fingerprint != sub.fingerprint and a.approver != sub.preparer
    ]
    return Signoff(sub.digest, Signer(sub.preparer, sub.fingerprint, sub.submitted_at), approved)
