-- batchpay ledger, schema 1. Amounts are exact decimal TEXT; times are UTC ISO-8601.

CREATE TABLE batches (
    batch_id      TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    sandbox       INTEGER NOT NULL,
    sheet_name    TEXT NOT NULL,
    sheet_sha256  TEXT NOT NULL,
    rounding      TEXT NOT NULL,
    fee_option    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_run_at   TEXT NOT NULL,
    refreshed_at  TEXT
);

CREATE TABLE payouts (
    batch_id          TEXT NOT NULL REFERENCES batches(batch_id),
    row_key           TEXT NOT NULL,
    sheet_row         INTEGER NOT NULL,
    reference         TEXT NOT NULL,
    name              TEXT,
    description       TEXT,
    currency          TEXT NOT NULL,
    network           TEXT,
    address           TEXT,
    memo              TEXT,
    extra_json        TEXT NOT NULL DEFAULT '{}',
    amount_requested  TEXT NOT NULL,
    amount            TEXT NOT NULL,
    rounding_delta    TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempt_no        INTEGER NOT NULL DEFAULT 0,
    idempotency_key   TEXT,
    provider_ref      TEXT,
    fee               TEXT,
    amount_sent       TEXT,
    tx_hash           TEXT,
    error_code        TEXT,
    error_message     TEXT,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (batch_id, row_key)
);
CREATE INDEX payouts_status ON payouts(batch_id, status);

-- One record per request to the provider: creates (each try of each attempt) and lookups.
CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id         TEXT NOT NULL,
    row_key          TEXT NOT NULL,
    attempt_no       INTEGER NOT NULL,
    idempotency_key  TEXT NOT NULL,
    action           TEXT NOT NULL,          -- create | lookup
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    request_json     TEXT,                   -- redacted
    http_status      INTEGER,
    response_json    TEXT,                   -- redacted
    outcome          TEXT,                   -- row status it led to; NULL while in flight
    disposition      TEXT,
    error_code       TEXT,
    error_message    TEXT,
    provider_ref     TEXT,
    FOREIGN KEY (batch_id, row_key) REFERENCES payouts(batch_id, row_key)
);
CREATE INDEX attempts_row ON attempts(batch_id, row_key);
