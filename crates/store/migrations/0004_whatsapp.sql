-- WhatsApp Cloud API: the buyer's last message (for the 24-hour rule), what kind of WhatsApp
-- message was sent, and the buyers' own messages as received.

ALTER TABLE customers ADD COLUMN last_inbound_at {int};
-- For WhatsApp: 'text' (inside 24 hours of the buyer's last message) or 'template'.
ALTER TABLE messages ADD COLUMN variant TEXT;

-- Messages from buyers, kept as received (nothing a buyer sends is lost). `wa_message_id` makes a
-- redelivered webhook a no-op.
CREATE TABLE inbound_messages (
    id            {id},
    phone         TEXT NOT NULL,                 -- E.164
    wa_message_id TEXT NOT NULL UNIQUE,
    body          TEXT,
    received_at   {int} NOT NULL,
    raw           TEXT NOT NULL
);
CREATE INDEX inbound_messages_by_phone ON inbound_messages (phone, received_at);
