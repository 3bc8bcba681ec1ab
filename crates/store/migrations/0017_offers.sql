-- Offers to the waitlist (issue 17): a unit released to the first buyer in line is held for
-- them (`products.reserved`) until `offer_until`, claimed through a random token of 128 bits,
-- and announced by a message that belongs to the waitlist entry, not to an order. Messages
-- therefore name an order or a waitlist entry.
ALTER TABLE waitlist ADD COLUMN offer_until {int};
ALTER TABLE waitlist ADD COLUMN claim_token TEXT;
ALTER TABLE waitlist ADD COLUMN order_id {int} REFERENCES orders (id);
CREATE UNIQUE INDEX waitlist_by_claim_token ON waitlist (claim_token);
CREATE INDEX waitlist_offers_due ON waitlist (offer_until) WHERE status = 'offered';

--postgresonly ALTER TABLE messages ALTER COLUMN order_id DROP NOT NULL;
--postgresonly ALTER TABLE messages ADD COLUMN waitlist_id BIGINT REFERENCES waitlist (id);
--sqliteonly CREATE TABLE messages_new (
--sqliteonly     id              TEXT PRIMARY KEY,
--sqliteonly     order_id        INTEGER REFERENCES orders (id),
--sqliteonly     kind            TEXT NOT NULL,
--sqliteonly     channel         TEXT NOT NULL,
--sqliteonly     recipient       TEXT NOT NULL,
--sqliteonly     subject         TEXT,
--sqliteonly     body            TEXT NOT NULL,
--sqliteonly     status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead', 'superseded', 'skipped')),
--sqliteonly     attempts        INTEGER NOT NULL DEFAULT 0,
--sqliteonly     last_error      TEXT,
--sqliteonly     next_attempt_at INTEGER,
--sqliteonly     created_at      INTEGER NOT NULL,
--sqliteonly     sent_at         INTEGER,
--sqliteonly     sent_by         TEXT,
--sqliteonly     variant         TEXT,
--sqliteonly     waitlist_id     INTEGER REFERENCES waitlist (id)
--sqliteonly );
--sqliteonly INSERT INTO messages_new (rowid, id, order_id, kind, channel, recipient, subject, body, status, attempts,
--sqliteonly                           last_error, next_attempt_at, created_at, sent_at, sent_by, variant)
--sqliteonly     SELECT rowid, id, order_id, kind, channel, recipient, subject, body, status, attempts,
--sqliteonly            last_error, next_attempt_at, created_at, sent_at, sent_by, variant FROM messages;
--sqliteonly DROP TABLE messages;
--sqliteonly ALTER TABLE messages_new RENAME TO messages;
--sqliteonly CREATE INDEX messages_by_order ON messages (order_id, created_at);
--sqliteonly CREATE INDEX messages_by_channel_status ON messages (channel, status, created_at);
--postgresonly ALTER TABLE messages ADD CONSTRAINT messages_belong CHECK (order_id IS NOT NULL OR waitlist_id IS NOT NULL);
CREATE INDEX messages_by_waitlist ON messages (waitlist_id) WHERE waitlist_id IS NOT NULL;
