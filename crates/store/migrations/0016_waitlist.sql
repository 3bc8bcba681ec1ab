-- The waitlist (issue 17): buyers who asked to be told when a sold-out product (or variant) is
-- on sale again, in the order they asked. A number waits once per product.
CREATE TABLE waitlist (
    id         {id},
    sku        TEXT NOT NULL REFERENCES products (sku),
    phone      TEXT NOT NULL,
    name       TEXT,
    created_at {int} NOT NULL,
    status     TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'claimed', 'lapsed')),
    updated_at {int} NOT NULL
);
CREATE UNIQUE INDEX waitlist_once ON waitlist (sku, phone) WHERE status IN ('waiting', 'offered');
CREATE INDEX waitlist_by_sku ON waitlist (sku, id);
CREATE INDEX waitlist_by_phone ON waitlist (phone);
