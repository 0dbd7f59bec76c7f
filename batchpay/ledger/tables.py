"""The ledger's records: its tables, as SQLAlchemy Core metadata.

Amounts are exact decimal TEXT and times UTC ISO-8601 TEXT, on both backends, so a value
reads back as written, digit for digit. The same tables exist in a SQLite ledger built by the
numbered scripts in ``migrations/`` (the schema of batchpay's first releases, at
``PRAGMA user_version`` 5) and in a PostgreSQL ledger built from this metadata by the Alembic
baseline revision; ``tests/ledger/test_migrations.py`` holds the two to the same columns.
Later changes are Alembic revisions (``batchpay/ledger/alembic/versions``), for both.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("sandbox", sa.Integer, nullable=False),
    sa.Column("sheet_name", sa.Text, nullable=False),
    sa.Column("sheet_sha256", sa.Text, nullable=False),
    sa.Column("rounding", sa.Text, nullable=False),
    sa.Column("fee_option", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("last_run_at", sa.Text, nullable=False),
    sa.Column("refreshed_at", sa.Text),
    # bumped by every change to the batch's rows or attempts (a trigger keeps it)
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    sa.Column("plan_digest", sa.Text),
    sa.Column("reconciled_revision", sa.Integer),
)

payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("batch_id", sa.Text, sa.ForeignKey(batches.c.batch_id), primary_key=True),
    sa.Column("row_key", sa.Text, primary_key=True),
    sa.Column("sheet_row", sa.Integer, nullable=False),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("network", sa.Text),
    sa.Column("address", sa.Text),
    sa.Column("memo", sa.Text),
    sa.Column("extra_json", sa.Text, nullable=False, server_default="{}"),
    sa.Column("amount_requested", sa.Text, nullable=False),
    sa.Column("amount", sa.Text, nullable=False),
    sa.Column("rounding_delta", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempt_no", sa.Integer, nullable=False, server_default="0"),
    sa.Column("idempotency_key", sa.Text),
    sa.Column("provider_ref", sa.Text),
    sa.Column("fee", sa.Text),
    sa.Column("amount_sent", sa.Text),
    sa.Column("tx_hash", sa.Text),
    sa.Column("error_code", sa.Text),
    sa.Column("error_message", sa.Text),
    sa.Column("updated_at", sa.Text, nullable=False),
    # several workers on one batch (revision 0006, batchpay.ledger.claims): who holds the
    # row and until when
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", sa.Text),
    sa.Index("payouts_status", "batch_id", "status"),
    sa.Index("payouts_provider_ref", "provider_ref"),
)

# One record per request to the provider: creates (each try of each attempt), lookups,
# callbacks (webhook) and reconciliation flags.
attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("row_key", sa.Text, nullable=False),
    sa.Column("attempt_no", sa.Integer, nullable=False),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text),
    sa.Column("request_json", sa.Text),  # redacted
    sa.Column("http_status", sa.Integer),
    sa.Column("response_json", sa.Text),  # redacted
    sa.Column("outcome", sa.Text),  # row status it led to; NULL while in flight
    sa.Column("disposition", sa.Text),
    sa.Column("error_code", sa.Text),
    sa.Column("error_message", sa.Text),
    sa.Column("provider_ref", sa.Text),
    sa.Column("try_no", sa.Integer, nullable=False, server_default="1"),
    sa.ForeignKeyConstraint(["batch_id", "row_key"], [payouts.c.batch_id, payouts.c.row_key]),
    sa.Index("attempts_row", "batch_id", "row_key"),
    sa.Index("attempts_keys", "batch_id", "action", "idempotency_key", "row_key"),
    sa.Index(
        "attempts_provider_ref",
        "provider_ref",
        postgresql_where=sa.text("provider_ref IS NOT NULL"),
        sqlite_where=sa.text("provider_ref IS NOT NULL"),
    ),
)

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("provider", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("received_at", sa.Text, nullable=False),
)

report_stamps = sa.Table(
    "report_stamps",
    metadata,
    sa.Column("directory", sa.Text, primary_key=True),
    sa.Column("stamp", sa.Text, nullable=False),
    sa.Column("files_json", sa.Text, nullable=False),
    sa.Column("summary_json", sa.Text, nullable=False),
)

# The shared rate limit (revision 0006, batchpay.send.ratelimit.SharedRateLimiter): per
# provider, the next free request slot in microseconds since the epoch.
rate_slots = sa.Table(
    "rate_slots",
    metadata,
    sa.Column("provider", sa.Text, primary_key=True),
    sa.Column("next_us", sa.BigInteger, nullable=False),
)

# Four eyes (revision 0007, batchpay.ledger.fouryes): the plan a preparer submitted (one per
# batch; a new submission replaces it), every approval signed over a digest (one counts only
# while its digest is the submitted one and it is not void), and each batch's hash-chained
# audit log (hash = SHA-256(prev_hash + canonical entry); (batch_id, seq) is unique, so two
# writers can never fork a chain). Signatures are base64 Ed25519 text, hashes hex text.
submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("digest", sa.Text, nullable=False),  # SHA-256 of canonical
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("fee_option", sa.Text, nullable=False),
    sa.Column("canonical", sa.Text, nullable=False),  # the exact UTF-8 JSON hashed
    sa.Column("plan_json", sa.Text, nullable=False),  # the plan's rows, to pay it
    sa.Column("preparer", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),  # SHA256:... of the preparer's key
    sa.Column("statement", sa.Text, nullable=False),  # what the preparer signed
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("submitted_at", sa.Text, nullable=False),
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("approver", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("statement", sa.Text, nullable=False),  # digest, batch, acknowledged refs, time
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("acks_json", sa.Text, nullable=False),
    sa.Column("via", sa.Text, nullable=False),  # cli | web
    sa.Column("approved_at", sa.Text, nullable=False),
    sa.Column("void", sa.Integer, nullable=False, server_default="0"),
    sa.Index("approvals_batch", "batch_id", "digest"),
)

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("payload_json", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
)

# The web app (revision 0008, batchpay.ledger.users): its accounts (passwords arrive hashed
# with argon2id) and its settings (the secret that signs session cookies).
ROLES = ("preparer", "approver", "viewer", "admin")

users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("public_key", sa.Text),  # "ssh-ed25519 AAAA... NAME (batchpay web)" (0009)
    sa.Column("sealed_key", sa.Text),  # the private key sealed under the password (0009)
    sa.CheckConstraint("role IN ('preparer', 'approver', 'viewer', 'admin')", name="users_role"),
)

web_settings = sa.Table(
    "web_settings",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# PostgreSQL's form of the rules the SQLite scripts keep with triggers (migrations 003, 005):
# a revision per batch that every change to its rows or attempts bumps; a new attempt forgets
# the old attempt's payout; a failed or cancelled row claims no money sent and no fee.
POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION batchpay_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE batches SET revision = revision + 1 WHERE batch_id = NEW.batch_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION batchpay_payout_rules() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.attempt_no IS DISTINCT FROM OLD.attempt_no THEN
            NEW.provider_ref := NULL; NEW.fee := NULL;
            NEW.amount_sent := NULL; NEW.tx_hash := NULL;
        END IF;
        IF NEW.status IN ('failed', 'cancelled') THEN
            NEW.amount_sent := NULL; NEW.fee := NULL;
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER payouts_rules BEFORE UPDATE ON payouts"
    " FOR EACH ROW EXECUTE FUNCTION batchpay_payout_rules()",
    "CREATE TRIGGER payouts_revision AFTER INSERT OR UPDATE ON payouts"
    " FOR EACH ROW EXECUTE FUNCTION batchpay_bump_revision()",
    "CREATE TRIGGER attempts_revision AFTER INSERT OR UPDATE ON attempts"
    " FOR EACH ROW EXECUTE FUNCTION batchpay_bump_revision()",
)
