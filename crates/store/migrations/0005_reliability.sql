-- Buyer reliability (issue 5): each buyer's record, kept in the transaction of every change and
-- rebuildable from the orders (`lunas reputation rebuild`); a band staff pinned, with the reason;
-- notes and tags. Orders remember when they ended, who cancelled them, and the policy that applied.

ALTER TABLE customers ADD COLUMN orders_placed {int} NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN orders_paid {int} NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN orders_expired {int} NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN orders_cancelled_by_buyer {int} NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN orders_cancelled_by_seller {int} NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN cod_refused {int} NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN returns {int} NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN amount_paid {int} NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN first_order_at {int};
ALTER TABLE customers ADD COLUMN last_order_at {int};
ALTER TABLE customers ADD COLUMN band_pin TEXT CHECK (band_pin IN ('trusted', 'normal', 'watch', 'blocked'));
ALTER TABLE customers ADD COLUMN band_reason TEXT;
ALTER TABLE customers ADD COLUMN notes TEXT;
ALTER TABLE customers ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';   -- JSON array of strings

ALTER TABLE orders ADD COLUMN ended_at {int};                     -- when it left awaiting_payment
ALTER TABLE orders ADD COLUMN cancelled_by TEXT CHECK (cancelled_by IN ('buyer', 'seller'));
ALTER TABLE orders ADD COLUMN policy TEXT;
-- A deposit the buyer's band asked for (awaiting_payment until it is paid, then awaiting_balance),
-- and what became of it when the balance never came: 'kept' or 'to_refund'.
ALTER TABLE orders ADD COLUMN deposit {int};
ALTER TABLE orders ADD COLUMN deposit_forfeited TEXT CHECK (deposit_forfeited IN ('kept', 'to_refund'));                          -- JSON: the band and reason that applied

CREATE INDEX orders_by_customer_end ON orders (customer_id, ended_at);

-- Erasure (UU PDP): an erased buyer keeps their record and orders under a pseudonym; `phone_hmac`
-- (HMAC-SHA-256 of the E.164 number with the server's privacy key) lets a returning blocked
-- number be recognised without keeping anything reversible.
ALTER TABLE customers ADD COLUMN phone_hmac TEXT;
ALTER TABLE customers ADD COLUMN erased_at {int};
CREATE INDEX customers_by_phone_hmac ON customers (phone_hmac);

-- Server secrets that must be the same for every lunas process on this database (the privacy key,
-- unless LUNAS_PRIVACY_KEY gives one).
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Who did what to buyers' records (pinned a band, changed notes or tags), for the owner to read.
CREATE TABLE audit_log (
    id      {id},
    at      {int} NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,                  -- customer.band, customer.notes
    subject TEXT NOT NULL,                  -- the buyer's phone (E.164)
    detail  TEXT NOT NULL                   -- JSON
);
CREATE INDEX audit_log_by_subject ON audit_log (subject, id);

-- Existing data: the records as a rebuild would make them.
UPDATE orders SET ended_at = updated_at WHERE status <> 'awaiting_payment';
UPDATE customers SET
    orders_placed = (SELECT COUNT(*) FROM orders o WHERE o.customer_id = customers.id),
    orders_paid = (SELECT COUNT(*) FROM orders o WHERE o.customer_id = customers.id AND o.status = 'paid'),
    orders_expired = (SELECT COUNT(*) FROM orders o WHERE o.customer_id = customers.id AND o.status = 'expired'),
    orders_cancelled_by_seller = (SELECT COUNT(*) FROM orders o WHERE o.customer_id = customers.id AND o.status = 'cancelled'),
    amount_paid = (SELECT COALESCE(SUM(p.amount), 0) FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.customer_id = customers.id),
    first_order_at = (SELECT MIN(placed_at) FROM orders o WHERE o.customer_id = customers.id),
    last_order_at = (SELECT MAX(placed_at) FROM orders o WHERE o.customer_id = customers.id);
UPDATE orders SET cancelled_by = 'seller' WHERE status = 'cancelled';
