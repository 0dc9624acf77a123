-- Identity: passkeys, second factors, recovery codes, invitations, richer sessions,
-- known devices and in-app notices. Portable SQL (see 0001).

-- Per-practice sign-in policy for patients and whether patients may register themselves.
ALTER TABLE practice ADD COLUMN patient_auth TEXT NOT NULL DEFAULT 'passkey_or_password_totp';
ALTER TABLE practice ADD COLUMN self_registration BIGINT NOT NULL DEFAULT 0;

-- A WebAuthn credential (webauthn-rs `Passkey`, JSON) of a user.
CREATE TABLE passkeys (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    name           TEXT NOT NULL,
    credential_id  TEXT NOT NULL UNIQUE,
    passkey_json   TEXT NOT NULL,
    created_ms     BIGINT NOT NULL,
    last_used_ms   BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- TOTP secret (sealed with the server's secret key), confirmed once the user proved a
-- code, and the last accepted time step (a code is accepted once).
CREATE TABLE totp (
    user_id        TEXT PRIMARY KEY REFERENCES users (id),
    secret_sealed  TEXT NOT NULL,
    created_ms     BIGINT NOT NULL,
    confirmed_ms   BIGINT,
    last_step      BIGINT
);

-- Single-use recovery codes, stored hashed.
CREATE TABLE recovery_codes (
    user_id     TEXT NOT NULL REFERENCES users (id),
    code_hash   TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    used_ms     BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Single-use, expiring links: enrolment of a new account, or re-enrolment of an
-- existing one after an administrator reset its credentials.
CREATE TABLE invitations (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    invited_by    TEXT,
    created_ms    BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL,
    used_ms       BIGINT,
    revoked_ms    BIGINT
);
CREATE INDEX invitations_by_user ON invitations (user_id);

-- Server-side state of a WebAuthn ceremony between its two requests (single use).
CREATE TABLE webauthn_ceremonies (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    user_id     TEXT,
    state_json  TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL
);

-- A first factor passed, the second not yet (password accepted, TOTP pending).
CREATE TABLE pending_signins (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    failures    BIGINT NOT NULL DEFAULT 0
);

-- Sessions learn how they were authenticated, when last (for step-up), from where.
ALTER TABLE sessions ADD COLUMN authenticated_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
ALTER TABLE sessions ADD COLUMN idle_timeout_ms BIGINT NOT NULL DEFAULT 1800000;
ALTER TABLE sessions ADD COLUMN device_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN mfa_pending BIGINT NOT NULL DEFAULT 0;

-- Browsers a user has signed in from (hash of a long-lived random cookie), so a sign-in
-- from a new one can be announced.
CREATE TABLE known_devices (
    user_id        TEXT NOT NULL REFERENCES users (id),
    device_hash    TEXT NOT NULL,
    first_seen_ms  BIGINT NOT NULL,
    last_seen_ms   BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);

-- In-app security notices ("a new device signed in", "your password was changed").
CREATE TABLE notices (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_ms  BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    read_ms     BIGINT
);
CREATE INDEX notices_by_user ON notices (user_id, created_ms);
