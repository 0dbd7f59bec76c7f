-- batchpay ledger, schema 4: every request that left is a record of its own. Retries inside
-- one attempt (a 429 then a 200; a 5xx repeated with the same key) were one record; now each
-- try has one, numbered from 1 within its attempt record's (row, attempt, key). Records
-- written before this schema were single tries or kept only their last try: they read as 1.
ALTER TABLE attempts ADD COLUMN try_no INTEGER NOT NULL DEFAULT 1;
