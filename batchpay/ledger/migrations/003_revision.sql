-- batchpay ledger, schema 3: a revision per batch that every change to its rows or attempts
-- bumps, so a report on disk can tell whether it is still current. Triggers, not code, keep
-- it: a write path added later cannot forget to bump it.
ALTER TABLE batches ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
-- The digest of the plan last saved (Plan.digest): a resume of the same sheet skips re-saving.
ALTER TABLE batches ADD COLUMN plan_digest TEXT;
-- The revision at which the provider's own list last matched the ledger in full (see
-- Engine.reconcile): a resume that finds the batch unchanged since need not list it again.
ALTER TABLE batches ADD COLUMN reconciled_revision INTEGER;
CREATE TRIGGER payouts_insert_revision AFTER INSERT ON payouts BEGIN
    UPDATE batches SET revision = revision + 1 WHERE batch_id = NEW.batch_id;
END;
CREATE TRIGGER payouts_update_revision AFTER UPDATE ON payouts BEGIN
    UPDATE batches SET revision = revision + 1 WHERE batch_id = NEW.batch_id;
END;
CREATE TRIGGER attempts_insert_revision AFTER INSERT ON attempts BEGIN
    UPDATE batches SET revision = revision + 1 WHERE batch_id = NEW.batch_id;
END;
CREATE TRIGGER attempts_update_revision AFTER UPDATE ON attempts BEGIN
    UPDATE batches SET revision = revision + 1 WHERE batch_id = NEW.batch_id;
END;
-- The ledger state each report folder was last written from (see api._finish).
CREATE TABLE report_stamps (
    directory   TEXT PRIMARY KEY,
    stamp       TEXT NOT NULL,
    files_json  TEXT NOT NULL,
    summary_json TEXT NOT NULL
);
-- Reconciling matches the provider's list by key; this index answers it without reading
-- the attempts' request and response bodies.
CREATE INDEX attempts_keys ON attempts(batch_id, action, idempotency_key, row_key);
