-- Envelope encryption of records: the master key wraps versioned key-encryption keys
-- (rotatable), which wrap one data key per owner (a patient), which seals each record
-- version. Only wrapped keys are stored here.

CREATE TABLE key_encryption_keys (
    version     BIGINT PRIMARY KEY,
    wrapped     TEXT NOT NULL,
    created_ms  BIGINT NOT NULL
);

CREATE TABLE data_keys (
    owner        TEXT PRIMARY KEY,
    kek_version  BIGINT NOT NULL,
    wrapped      TEXT NOT NULL,
    created_ms   BIGINT NOT NULL
);
CREATE INDEX data_keys_by_kek ON data_keys (kek_version);
