-- Conversations (issue 20): the shop's FAQ entries, what the shop answered buyers (staff from
-- the dashboard, or the FAQ bot), and on each buyer's message what the FAQ matcher made of it.

CREATE TABLE faq_entries (
    id         TEXT PRIMARY KEY,
    questions  TEXT NOT NULL,                 -- JSON array of the question variants
    answer     TEXT NOT NULL,
    sku        TEXT,
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL
);

-- A reply to a buyer outside an order's messages. `channel`: whatsapp (sent through the Cloud
-- API), link (staff opened a wa.me link with the text) or logged (staff wrote down a reply they
-- gave elsewhere).
CREATE TABLE replies (
    id          {id},
    phone       TEXT NOT NULL,
    body        TEXT NOT NULL,
    answered_by TEXT NOT NULL CHECK (answered_by IN ('staff', 'bot')),
    actor       TEXT NOT NULL,
    faq_id      TEXT,
    channel     TEXT NOT NULL CHECK (channel IN ('whatsapp', 'link', 'logged')),
    status      TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
    error       TEXT,
    created_at  {int} NOT NULL
);
CREATE INDEX replies_by_phone ON replies (phone, created_at);

-- The matcher's best entry for a buyer's message and its confidence; `faq_state`: sent (the bot
-- answered), suggested (waiting for staff), accepted (staff sent the suggestion), dismissed,
-- corrected (staff named another entry, and the message became one of its questions).
ALTER TABLE inbound_messages ADD COLUMN faq_id TEXT;
ALTER TABLE inbound_messages ADD COLUMN faq_score {int};                -- confidence × 1000
ALTER TABLE inbound_messages ADD COLUMN faq_state TEXT;

-- What WhatsApp said of a message lunas sent (its `statuses[]`): sent, delivered, read or failed,
-- and when; a status only moves forward (a late "delivered" does not undo "read").
ALTER TABLE messages ADD COLUMN delivery TEXT;
ALTER TABLE messages ADD COLUMN delivery_at {int};

-- A number's messages as counted when they arrive (tire-kicker signals the risk policy may read
-- while an order is placed): messages, the local days it wrote on, how often it haggled. Numbers
-- that wrote before are counted here by their messages and UTC+7 days (haggles from now on).
CREATE TABLE chat_signals (
    phone    TEXT PRIMARY KEY,
    messages {int} NOT NULL,
    days     {int} NOT NULL,
    haggles  {int} NOT NULL,
    last_day {int} NOT NULL                    -- the local day (days since 1970-01-01) last counted
){without_rowid};
INSERT INTO chat_signals (phone, messages, days, haggles, last_day)
SELECT phone, COUNT(*), COUNT(DISTINCT (received_at + 25200000) / 86400000), 0,
       MAX((received_at + 25200000) / 86400000)
FROM inbound_messages WHERE phone LIKE '+%' GROUP BY phone;
