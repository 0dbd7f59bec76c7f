-- batchpay ledger, schema 6: four eyes. The plan a preparer submitted, the approvals signed
-- over its digest, and a hash-chained audit log per batch. Plain portable SQL (TEXT and
-- INTEGER columns, no triggers). Times are UTC ISO-8601; signatures are base64 Ed25519 over
-- the statement stored beside them.

-- The submitted plan of a batch (one per batch: a new submission replaces it).
CREATE TABLE submissions (
    batch_id      TEXT PRIMARY KEY,
    digest        TEXT NOT NULL,           -- SHA-256 of canonical (batchpay.review.digest)
    provider      TEXT NOT NULL,
    fee_option    TEXT NOT NULL,
    canonical     TEXT NOT NULL,           -- the exact UTF-8 JSON hashed into digest
    plan_json     TEXT NOT NULL,           -- the plan's rows, as needed to pay it
    preparer      TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,           -- SHA256:... of the preparer's key
    statement     TEXT NOT NULL,           -- what the preparer signed
    signature     TEXT NOT NULL,
    submitted_at  TEXT NOT NULL
);

-- Every approval given; one counts only while its digest is the submitted one and not void.
CREATE TABLE approvals (
    id           INTEGER PRIMARY KEY,
    batch_id     TEXT NOT NULL,
    digest       TEXT NOT NULL,
    approver     TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    statement    TEXT NOT NULL,            -- digest, batch, acknowledged references, time
    signature    TEXT NOT NULL,
    acks_json    TEXT NOT NULL,
    via          TEXT NOT NULL,            -- cli | web
    approved_at  TEXT NOT NULL,
    void         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX approvals_batch ON approvals(batch_id, digest);

-- What was done to a batch, by whom; hash = SHA-256(prev_hash + canonical entry).
CREATE TABLE audit_entries (
    batch_id      TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    payload_json  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (batch_id, seq)
);
