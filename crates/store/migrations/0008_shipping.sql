-- Orders that ship: the shipping cost (ongkir) and discount that make up the total with the
-- items, and the recipient's address. The address is personal data: a buyer's erasure deletes it.

ALTER TABLE orders ADD COLUMN shipping_cost {int} NOT NULL DEFAULT 0 CHECK (shipping_cost >= 0);
ALTER TABLE orders ADD COLUMN discount {int} NOT NULL DEFAULT 0 CHECK (discount >= 0);

CREATE TABLE order_addresses (
    order_id  {int} PRIMARY KEY REFERENCES orders (id),
    recipient TEXT NOT NULL,
    phone     TEXT NOT NULL,                -- E.164
    street    TEXT NOT NULL,
    kelurahan TEXT,
    kecamatan TEXT,
    city      TEXT NOT NULL,                -- kota or kabupaten
    province  TEXT NOT NULL,
    postcode  TEXT
){without_rowid};
