-- The buyer's own order page, /o/{token}: every order has a random token of at least 128 bits
-- that only its buyer is sent. Orders placed before get one here (SQLite: 16 random bytes;
-- PostgreSQL: two random UUIDs, 244 random bits); new orders get theirs from the engine.
ALTER TABLE orders ADD COLUMN public_token TEXT;
--sqliteonly UPDATE orders SET public_token = lower(hex(randomblob(16)));
--postgresonly UPDATE orders SET public_token = replace(CAST(gen_random_uuid() AS TEXT) || CAST(gen_random_uuid() AS TEXT), '-', '');
CREATE UNIQUE INDEX orders_by_public_token ON orders (public_token);
