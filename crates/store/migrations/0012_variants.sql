-- Variants (size, colour: "Hitam / L"): a variant is a product with its own SKU, stock and holds
-- that belongs to one product, its parent. Its name is the parent's with the label, kept in step
-- when the parent is renamed; its price is the parent's unless it has its own. A product counts
-- its variants, so placing an order tells a group (sold only through its variants) from a
-- product in the row it already reads.
ALTER TABLE products ADD COLUMN parent TEXT REFERENCES products (sku);
ALTER TABLE products ADD COLUMN variant TEXT;
ALTER TABLE products ADD COLUMN inherits_price {bool} NOT NULL DEFAULT {false};
ALTER TABLE products ADD COLUMN variants {int} NOT NULL DEFAULT 0 CHECK (variants >= 0);
CREATE UNIQUE INDEX products_variants ON products (parent, variant) WHERE parent IS NOT NULL;
