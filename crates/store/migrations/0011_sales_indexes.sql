-- Today's sales at a glance: orders placed, and orders that ended (paid or released), in a day or
-- a month, each read from an index rather than by walking every order.
CREATE INDEX orders_by_placed ON orders (placed_at);
CREATE INDEX orders_by_ended ON orders (ended_at);
