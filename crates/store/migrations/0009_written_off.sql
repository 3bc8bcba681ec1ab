-- Money the store let go when it took an order as paid: a transfer of the total without its
-- unique code (within the store's tolerance), or a shortfall staff accepted ("terima sebagai
-- lunas"). amount_paid stays what arrived.

ALTER TABLE orders ADD COLUMN written_off {int} NOT NULL DEFAULT 0 CHECK (written_off >= 0);
