-- Today's sales at a glance: orders placed, and orders that ended (paid or released), in a day or
-- a month, each read from an index rather than by walking every order. Only orders that ended
-- are in the second, so placing an order writes one index entry more, not two.
CREATE INDEX orders_by_placed ON orders (placed_at);
CREATE INDEX orders_by_ended ON orders (ended_at) WHERE ended_at IS NOT NULL;
