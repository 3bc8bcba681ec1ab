-- After the payment (issue 18): a COD order waits for its buyer's confirmation until
-- `confirm_by`; a paid or confirmed order is packed, shipped under a courier's waybill (unique
-- across orders), delivered, and completed when its return window closes. A parcel refused at the
-- door comes back with what its return cost, and counts in the buyer's record (`cod_refused`, and
-- `returns` for a return received). No CHECKs on the
-- orders' new columns: every placement would pay for them (see 0014); the engine checks amounts.
ALTER TABLE orders ADD COLUMN confirm_by {int};
ALTER TABLE orders ADD COLUMN courier TEXT;
ALTER TABLE orders ADD COLUMN courier_service TEXT;
ALTER TABLE orders ADD COLUMN waybill TEXT;
ALTER TABLE orders ADD COLUMN ship_cost {int};
ALTER TABLE orders ADD COLUMN return_cost {int};
ALTER TABLE orders ADD COLUMN packed_at {int};
ALTER TABLE orders ADD COLUMN shipped_at {int};
ALTER TABLE orders ADD COLUMN delivered_at {int};
ALTER TABLE orders ADD COLUMN completed_at {int};
CREATE UNIQUE INDEX orders_by_waybill ON orders (waybill) WHERE waybill IS NOT NULL;
-- COD orders taken before confirmations existed were accepted by the seller already.
UPDATE orders SET status = 'confirmed' WHERE payment_method = 'cod' AND status = 'awaiting_payment';

-- Couriers' events, each kept once by its identity (`source`, `event_key`), with what it did:
-- 'applied', 'unchanged' (a repeat, or late), 'unknown_waybill' or 'order_ended' (kept for
-- staff; an unknown waybill's events apply when an order is shipped under it).
CREATE TABLE courier_events (
    id          {id},
    source      TEXT NOT NULL,
    event_key   TEXT NOT NULL,
    waybill     TEXT NOT NULL,
    status      TEXT NOT NULL,
    step        TEXT,
    courier     TEXT,
    happened_at {int},
    received_at {int} NOT NULL,
    order_id    {int} REFERENCES orders (id),
    outcome     TEXT NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'unknown_waybill', 'order_ended')),
    UNIQUE (source, event_key)
);
CREATE INDEX courier_events_by_waybill ON courier_events (waybill, id);
CREATE INDEX courier_events_kept ON courier_events (outcome, id) WHERE outcome IN ('unknown_waybill', 'order_ended');

-- Returns: a request per order at a time, its photos (three at most, images re-encoded like
-- proofs of transfer), and the money paid back.
CREATE TABLE returns (
    id               {id},
    order_id         {int} NOT NULL REFERENCES orders (id),
    status           TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'received', 'refunded', 'exchanged')),
    reason           TEXT NOT NULL,
    requested_by     TEXT NOT NULL,
    requested_at     {int} NOT NULL,
    note             TEXT,
    resellable       {bool},
    refund_amount    {int} CHECK (refund_amount > 0),
    refund_method    TEXT,
    refund_reference TEXT,
    updated_at       {int} NOT NULL
);
CREATE INDEX returns_by_order ON returns (order_id, id);
CREATE INDEX returns_open ON returns (status, id) WHERE status IN ('requested', 'approved', 'received');
CREATE TABLE return_photos (
    id           {id},
    return_id    {int} NOT NULL REFERENCES returns (id),
    content_type TEXT NOT NULL,
    bytes        {int} NOT NULL,
    body         {blob} NOT NULL
);
CREATE INDEX return_photos_by_return ON return_photos (return_id, id);
