-- Outgoing webhook endpoints (Standard Webhooks). The secret is shown once when created and kept
-- here to sign every delivery; it never appears in a listing.
CREATE TABLE webhook_endpoints (
    id         TEXT PRIMARY KEY,                 -- wh_<hex>
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,                    -- whsec_<base64>
    created_at {int} NOT NULL
);
