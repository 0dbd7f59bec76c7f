-- batchpay ledger, schema 7: the web app's accounts and its settings (the session secret).
-- Plain portable SQL: the PostgreSQL port (issue 15) carries it over as it is.
CREATE TABLE users (
    name           TEXT NOT NULL PRIMARY KEY,
    role           TEXT NOT NULL CHECK (role IN ('preparer', 'approver', 'viewer', 'admin')),
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE TABLE web_settings (
    name   TEXT NOT NULL PRIMARY KEY,
    value  TEXT NOT NULL
);
