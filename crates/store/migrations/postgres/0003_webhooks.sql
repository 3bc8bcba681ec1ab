-- Outgoing webhook endpoints (Standard Webhooks). Same as migrations/sqlite/0003_webhooks.sql.
CREATE TABLE webhook_endpoints (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
