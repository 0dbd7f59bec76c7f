-- batchpay ledger, schema 4. Triggers, not code, keep two facts about a row true, so that
-- no write path (an engine answer, a callback, a refresh, or one added later) can forget them.
--
-- 1. A row's provider_ref, fee, amount_sent and tx_hash describe its *current* attempt. A new
--    attempt (retry) clears them: a lookup or a callback can then never read the old attempt's
--    payout as the new one's.
CREATE TRIGGER payouts_new_attempt_forgets_old_payout
AFTER UPDATE OF attempt_no ON payouts WHEN NEW.attempt_no IS NOT OLD.attempt_no BEGIN
    UPDATE payouts SET provider_ref = NULL, fee = NULL, amount_sent = NULL, tx_hash = NULL
    WHERE batch_id = NEW.batch_id AND row_key = NEW.row_key;
END;
-- 2. Money that did not move is not sent: a failed or cancelled row claims no amount sent and
--    no fee, whichever provider, and whatever path (create, status, callback) failed it.
CREATE TRIGGER payouts_dead_row_sent_nothing
AFTER UPDATE ON payouts
WHEN NEW.status IN ('failed', 'cancelled')
     AND (NEW.amount_sent IS NOT NULL OR NEW.fee IS NOT NULL) BEGIN
    UPDATE payouts SET amount_sent = NULL, fee = NULL
    WHERE batch_id = NEW.batch_id AND row_key = NEW.row_key;
END;
UPDATE payouts SET amount_sent = NULL, fee = NULL
WHERE status IN ('failed', 'cancelled') AND (amount_sent IS NOT NULL OR fee IS NOT NULL);
-- A callback names a payout; this finds the attempt that payout belongs to.
CREATE INDEX attempts_provider_ref ON attempts(provider_ref) WHERE provider_ref IS NOT NULL;
