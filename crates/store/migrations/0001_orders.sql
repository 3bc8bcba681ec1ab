-- The order desk core: products with holds, buyers, orders, payments, history, durable timers,
-- API tokens, idempotency keys and settings. Times are milliseconds since the Unix epoch, UTC.
-- Money is an integer count of the currency's smallest unit in use (one rupiah for IDR).

CREATE TABLE products (
    sku        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    price      {int} NOT NULL CHECK (price >= 0),
    on_hand    {int} NOT NULL CHECK (on_hand >= 0),
    -- Units held by orders awaiting payment. A hold can never exceed what is on hand, so stock
    -- available for sale (on_hand - reserved) never goes below zero, whatever the concurrency.
    reserved   {int} NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL
);

CREATE TABLE customers (
    id         {id},
    phone      TEXT NOT NULL UNIQUE,          -- E.164
    name       TEXT NOT NULL,
    email      TEXT,
    honorific  TEXT,
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL
);

CREATE TABLE orders (
    id             {id},
    customer_id    {int} NOT NULL REFERENCES customers (id),
    status         TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    total          {int} NOT NULL CHECK (total > 0),
    amount_paid    {int} NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    pay_by         {int},                    -- NULL for COD
    placed_at      {int} NOT NULL,
    updated_at     {int} NOT NULL
);
CREATE INDEX orders_by_status ON orders (status, id);
CREATE INDEX orders_by_customer ON orders (customer_id, id);

-- One row per order line; `hold` says what became of the units it holds:
-- 'held' (counted in products.reserved), 'released' or 'converted' (sold). It leaves 'held' once.
CREATE TABLE order_items (
    order_id   {int} NOT NULL REFERENCES orders (id),
    line       {int} NOT NULL,
    sku        TEXT NOT NULL REFERENCES products (sku),
    name       TEXT NOT NULL,
    unit_price {int} NOT NULL CHECK (unit_price >= 0),
    qty        {int} NOT NULL CHECK (qty > 0),
    hold       TEXT NOT NULL CHECK (hold IN ('held', 'released', 'converted')),
    PRIMARY KEY (order_id, line)
){without_rowid};
-- PostgreSQL plans the stock check of a SKU's held lines by it; SQLite reads them through the
-- table's own key.
--postgresonly CREATE INDEX order_items_by_sku ON order_items (sku) WHERE hold = 'held';

CREATE TABLE payments (
    id          {id},
    order_id    {int} NOT NULL REFERENCES orders (id),
    amount      {int} NOT NULL CHECK (amount > 0),
    reference   TEXT,
    recorded_at {int} NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX payments_by_order ON payments (order_id, id);

CREATE TABLE order_events (
    id          {id},
    order_id    {int} NOT NULL REFERENCES orders (id),
    at          {int} NOT NULL,
    actor       TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    reason      TEXT
);
CREATE INDEX order_events_by_order ON order_events (order_id, id);

-- Durable timers: a row per thing that must happen at a time. The scheduler takes the earliest
-- due rows by index and handles each in the transaction that re-reads the order's state.
CREATE TABLE timers (
    id       {id},
    due_at   {int} NOT NULL,
    kind     TEXT NOT NULL,
    order_id {int} NOT NULL REFERENCES orders (id),
    attempts {int} NOT NULL DEFAULT 0
);
CREATE INDEX timers_by_due ON timers (due_at, id);
CREATE INDEX timers_by_order ON timers (order_id);

CREATE TABLE api_tokens (
    id         {id},
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,          -- SHA-256 of the token, hex; the token itself is never stored
    created_at {int} NOT NULL
);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,                -- the API token's name
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id     {int} NOT NULL REFERENCES orders (id),
    response     TEXT NOT NULL,                -- the order as first returned, JSON
    created_at   {int} NOT NULL,
    PRIMARY KEY (scope, key)
){without_rowid};
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
