-- Telewarden foundation schema. One file for SQLite and PostgreSQL: only portable SQL
-- (TEXT, BIGINT; hashes as lowercase hex; times as Unix milliseconds).

CREATE TABLE practice (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    created_ms  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    password_hash  TEXT,
    created_ms     BIGINT NOT NULL,
    disabled_ms    BIGINT
);

CREATE TABLE setup_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    used_ms     BIGINT
);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    created_ms    BIGINT NOT NULL,
    last_seen_ms  BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL,
    revoked_ms    BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Small key/value facts the server keeps about itself (e.g. the digest of the last
-- effective configuration, to audit configuration changes between starts).
CREATE TABLE server_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- The audit ledger (see docs/ledger.md): an append-only hash chain.
CREATE TABLE ledger_entries (
    seq         BIGINT PRIMARY KEY,
    time_ms     BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    source      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    details     TEXT NOT NULL,
    leaf_hash   TEXT NOT NULL,
    chain_hash  TEXT NOT NULL
);

-- Signed tree heads with the Merkle frontier at that size (hex hashes, comma-separated).
CREATE TABLE ledger_checkpoints (
    tree_size  BIGINT PRIMARY KEY,
    time_ms    BIGINT NOT NULL,
    root       TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL,
    frontier   TEXT NOT NULL
);
