"""Keys, approvers files and four-eyes settings for the approvals tests."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from batchpay.approvals.keys import SigningKey, public_line
from batchpay.config import Settings, load_settings
from batchpay.ledger import Ledger

Person = tuple[str, str, SigningKey]  # name, role, key


def new_key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


# the team most four-eyes tests use: one preparer, two approvers; and a two-row sheet
ALICE, BOB, CAROL = new_key(), new_key(), new_key()
TEAM: list[Person] = [
    ("Alice Finance", "preparer", ALICE),
    ("Bob Controller", "approver", BOB),
    ("Carol Audit", "approver", CAROL),
]
SMALL = [("E-1", "100.00"), ("E-2", "200.00")]


def approvers_toml(
    people: list[Person], approvals: int = 1, above: list[tuple[str, str, int]] | None = None
) -> str:
    lines = []
    for name, role, key in people:
        line = public_line(key.public_key(), name.split()[0].lower() + "@example")
        lines += ["[[approver]]", f'name = "{name}"', f'role = "{role}"', f'key = "{line}"', ""]
    lines += ["[policy]", f"approvals = {approvals}", ""]
    for currency, total, count in above or []:
        lines += ["[[policy.above]]", f'currency = "{currency}"', f'total = "{total}"']
        lines += [f"approvals = {count}", ""]
    return "\n".join(lines)


def four_eyes(
    workdir: Path,
    people: list[Person],
    approvals: int = 1,
    above: list[tuple[str, str, int]] | None = None,
    **flags: object,
) -> Settings:
    """Settings with an approvers file for ``people`` in ``workdir``."""
    path = workdir / "approvers.toml"
    path.write_text(approvers_toml(people, approvals, above), encoding="utf-8")
    overrides = {
        "ledger": workdir / "ledger.sqlite",
        "report_dir": workdir / "reports",
        "approvers": path,
        **flags,
    }
    return load_settings(overrides, environ={}, cwd=workdir)


def sent_requests(settings: Settings, batch: str) -> int:
    """Create requests the ledger holds for ``batch`` (0 when it has none, or no ledger)."""
    if not settings.ledger.exists():
        return 0
    with Ledger(settings.ledger, create=False) as ledger:
        return sum(1 for a in ledger.attempts(batch) if a.action == "create")


def approved(workdir: Path, sheet: Path) -> tuple[Settings, str]:
    """Four-eyes settings for TEAM, with ``sheet`` submitted by Alice as batch "nov" on the
    sandbox and approved by Bob: the settings and the approved digest."""
    from batchpay import fouryes_api

    settings = four_eyes(workdir, TEAM)
    done = fouryes_api.submit(sheet, "sandbox", "nov", settings=settings, key=ALICE)
    fouryes_api.approve("nov", settings=settings, key=BOB, digest=done.digest)
    return settings, done.digest
