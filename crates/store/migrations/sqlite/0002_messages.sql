-- Messages to buyers (the transactional outbox), reminder timers, product tips, buyer opt-out.

ALTER TABLE products ADD COLUMN tips TEXT;
ALTER TABLE customers ADD COLUMN no_reminders INTEGER NOT NULL DEFAULT 0;
-- For reminder timers: which step of the cadence, and which reminder of the order it is (1, 2…).
ALTER TABLE timers ADD COLUMN step INTEGER;
ALTER TABLE timers ADD COLUMN ordinal INTEGER;

-- A message is written in the same transaction as the change that causes it. Its id is stable
-- and sent along with it, so a receiver can drop duplicates.
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,             -- msg_<ms since epoch, 12 hex><64 random bits, 16 hex>
    order_id        INTEGER NOT NULL REFERENCES orders (id),
    kind            TEXT NOT NULL,                -- reminder, order_received, payment_received, hold_released, cancelled
    channel         TEXT NOT NULL,                -- manual_whatsapp (more channels later)
    recipient       TEXT NOT NULL,                -- E.164 phone, or email address
    subject         TEXT,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    sent_by         TEXT
);
CREATE INDEX messages_by_order ON messages (order_id, created_at);
CREATE INDEX messages_by_channel_status ON messages (channel, status, created_at);
