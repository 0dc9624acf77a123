-- Encrypted backups of messaging devices: one per device, so a person who loses a phone
-- can restore that very device (its MLS state and history) in another browser. The
-- client encrypts the backup under a random data key and wraps that key with keys only
-- the person can derive (a passkey's PRF output, or a recovery phrase); the server keeps
-- the ciphertext (`body`, base64) and the wrapped keys (`unlock`, JSON) and can open
-- neither. `version` only ever grows: an older backup never replaces a newer one.
CREATE TABLE msg_backups (
    device_id    TEXT PRIMARY KEY REFERENCES msg_devices (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    version      BIGINT NOT NULL,
    unlock       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    body         TEXT NOT NULL,
    updated_ms   BIGINT NOT NULL
);
CREATE INDEX msg_backups_by_user ON msg_backups (user_id);
