-- Payments that confirm themselves (issue 6): the unique code of a bank transfer and the amount
-- the buyer must pay; where each payment came from and its identity (a gateway's transaction id,
-- a statement line's fingerprint), so that a callback delivered ten times records one payment;
-- the statement lines already imported; every verified gateway notification as received; and the
-- review list of money that needs a human.

ALTER TABLE orders ADD COLUMN amount_due {int};                   -- total ± unique code
ALTER TABLE orders ADD COLUMN unique_code {int};
ALTER TABLE orders ADD COLUMN payment_url TEXT;                     -- a gateway's payment page
UPDATE orders SET amount_due = total;

-- The amounts due of orders awaiting payment that carry a unique code are unique: a credit of
-- that amount names one order. The index is the whole mechanism: an order leaves it (its code is
-- free again) the moment its status changes.
CREATE UNIQUE INDEX orders_by_open_amount ON orders (amount_due)
    WHERE status = 'awaiting_payment' AND unique_code IS NOT NULL;

ALTER TABLE payments ADD COLUMN source TEXT NOT NULL DEFAULT 'staff'
    CHECK (source IN ('staff', 'statement', 'mutation', 'midtrans', 'xendit'));
ALTER TABLE payments ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX payments_by_external ON payments (source, external_id) WHERE external_id IS NOT NULL;

-- Money staff must look at: credits that match no open order or several, money for orders that
-- ended, overpayments, gateway notifications for unknown orders or with the wrong amount.
CREATE TABLE payment_reviews (
    id          {id},
    created_at  {int} NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT,
    order_id    {int} REFERENCES orders (id),
    amount      {int} NOT NULL,
    detail      TEXT NOT NULL,                  -- JSON
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolved_at {int},
    resolved_by TEXT,
    resolution  TEXT
);
CREATE INDEX payment_reviews_by_status ON payment_reviews (status, id);
CREATE UNIQUE INDEX payment_reviews_by_external ON payment_reviews (source, external_id, kind)
    WHERE external_id IS NOT NULL;

-- Statement and mutation lines already imported, by fingerprint: a second import skips them.
CREATE TABLE statement_lines (
    fingerprint TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    imported_at {int} NOT NULL,
    line_date   TEXT NOT NULL,
    description TEXT NOT NULL,
    amount      {int} NOT NULL,
    balance     {int},
    outcome     TEXT NOT NULL CHECK (outcome IN ('matched', 'review')),
    order_id    {int} REFERENCES orders (id)
);

-- Every gateway notification whose signature verified, as received, and what lunas did with it.
CREATE TABLE gateway_notifications (
    id             {id},
    received_at    {int} NOT NULL,
    gateway        TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    order_ref      TEXT NOT NULL,
    order_id       {int} REFERENCES orders (id),
    status         TEXT NOT NULL,
    amount         {int},
    body           TEXT NOT NULL,
    outcome        TEXT NOT NULL
);
CREATE INDEX gateway_notifications_by_order ON gateway_notifications (order_id);
