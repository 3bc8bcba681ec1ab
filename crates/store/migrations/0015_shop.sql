-- The shop (issue 17): the note a buyer writes at checkout, and each product's photo in the
-- sizes the catalogue shows (encoded by lunas from the seller's upload, without its metadata).
ALTER TABLE orders ADD COLUMN note TEXT;
ALTER TABLE products ADD COLUMN photo_version {int};

CREATE TABLE product_photos (
    sku          TEXT NOT NULL REFERENCES products (sku),
    size         TEXT NOT NULL CHECK (size IN ('s', 'm', 'l')),
    content_type TEXT NOT NULL,
    body         {blob} NOT NULL,
    PRIMARY KEY (sku, size)
);
