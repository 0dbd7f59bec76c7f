-- batchpay ledger, schema 8: a signing key per web account (four eyes in the browser). The
-- public half as an OpenSSH line, and the private half sealed under a key derived from the
-- account's password (argon2id, then AES-256-GCM; batchpay.web.signing). Never in clear.
-- Plain portable SQL: two nullable TEXT columns (a viewer, or an account made before this
-- schema, has none until its next log-in).
ALTER TABLE users ADD COLUMN public_key TEXT;
ALTER TABLE users ADD COLUMN sealed_key TEXT;
