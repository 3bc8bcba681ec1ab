-- Staff accounts of the dashboard, their sessions and failed sign-ins.

CREATE TABLE users (
    id            {id},
    email         TEXT NOT NULL UNIQUE,        -- lowercased
    role          TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    password_hash TEXT NOT NULL,               -- PHC string, Argon2id
    totp_secret   TEXT,                        -- base32; NULL when the second factor is off
    totp_step     {int},                      -- the 30-second step of the last code used (no replay)
    language      TEXT NOT NULL DEFAULT 'id',
    disabled      {bool} NOT NULL DEFAULT {false},
    created_at    {int} NOT NULL
);

-- A session is known by the SHA-256 of its cookie value, so a copy of the database opens none.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    {int} NOT NULL REFERENCES users (id),
    csrf       TEXT NOT NULL,
    created_at {int} NOT NULL,
    last_seen  {int} NOT NULL,
    reauth_at  {int} NOT NULL                -- when the password was last typed
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed sign-ins, by `account:<email>` and `address:<ip>`, for the throttle.
CREATE TABLE login_failures (
    id  {id},
    key TEXT NOT NULL,
    at  {int} NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);

