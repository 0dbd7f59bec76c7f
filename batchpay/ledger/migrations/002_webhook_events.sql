-- batchpay ledger, schema 2: webhook deliveries, so a replayed event changes nothing.
CREATE TABLE webhook_events (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX payouts_provider_ref ON payouts(provider_ref);
