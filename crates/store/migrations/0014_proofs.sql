-- Proofs of transfer (issue 17): the file a buyer sends from the order page, kept as sent after
-- its checks (images re-encoded without their metadata), and where the order's latest proof
-- stands, which pauses its reminders and keeps its hold while staff look. `proof_status` is
-- 'submitted', 'confirmed' or 'rejected' (read back through `ProofStatus::parse`); it has no CHECK
-- because one made every placement measurably dearer on SQLite (BENCHMARKS.md).
ALTER TABLE orders ADD COLUMN proof_status TEXT;
ALTER TABLE orders ADD COLUMN proof_at {int};
ALTER TABLE orders ADD COLUMN proofs {int} NOT NULL DEFAULT 0;

CREATE TABLE payment_proofs (
    id           {id},
    order_id     {int} NOT NULL REFERENCES orders (id),
    created_at   {int} NOT NULL,
    content_type TEXT NOT NULL,
    bytes        {int} NOT NULL,
    sha256       TEXT NOT NULL,
    body         {blob} NOT NULL
);
CREATE INDEX payment_proofs_by_order ON payment_proofs (order_id, id);
-- The open proofs of an order, found when staff resolve one or the order is paid.
CREATE INDEX payment_reviews_by_order ON payment_reviews (order_id, status) WHERE kind = 'proof_of_transfer';
