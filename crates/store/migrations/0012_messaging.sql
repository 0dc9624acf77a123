-- Secure messaging (MLS, RFC 9420): the server is the delivery and authentication
-- service. Everything a client encrypts is kept here only as opaque ciphertext (base64):
-- key packages, commits, welcomes, application messages and attachment blobs. No column
-- holds a message's or a file's plaintext, and none could.

-- One MLS member per browser or client. `id` is chosen by the client (32 hex digits) and
-- is part of its MLS credential; `ledger_seq` is the key-transparency entry that
-- published `signature_key`. 'archive' devices belong to the practice's archive, whose
-- keys the practice holds, and are added to every conversation.
CREATE TABLE msg_devices (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    kind           TEXT NOT NULL,
    label          TEXT NOT NULL,
    signature_key  TEXT NOT NULL,
    ledger_seq     BIGINT NOT NULL,
    created_ms     BIGINT NOT NULL,
    removed_ms     BIGINT
);
CREATE INDEX msg_devices_by_user ON msg_devices (user_id);

-- Key packages uploaded by a device, each handed out once (`claimed_ms`).
CREATE TABLE msg_key_packages (
    id           TEXT PRIMARY KEY,
    device_id    TEXT NOT NULL REFERENCES msg_devices (id),
    body         TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    claimed_ms   BIGINT,
    claimed_by   TEXT
);
CREATE INDEX msg_key_packages_by_device ON msg_key_packages (device_id, claimed_ms);

-- A conversation is one MLS group about one patient. `epoch` is the group's current
-- epoch as the server ordered it: a commit is accepted only for this epoch, and moves
-- it on by one. `next_seq` numbers what is delivered in the conversation.
CREATE TABLE msg_conversations (
    id           TEXT PRIMARY KEY,
    group_id     TEXT NOT NULL UNIQUE,
    patient_id   TEXT NOT NULL REFERENCES users (id),
    created_by   TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    epoch        BIGINT NOT NULL,
    next_seq     BIGINT NOT NULL
);
CREATE INDEX msg_conversations_by_patient ON msg_conversations (patient_id);

-- Which devices the group holds, as declared with each accepted commit; what is
-- delivered to whom follows this.
CREATE TABLE msg_members (
    conversation_id  TEXT NOT NULL REFERENCES msg_conversations (id),
    device_id        TEXT NOT NULL REFERENCES msg_devices (id),
    added_ms         BIGINT NOT NULL,
    added_seq        BIGINT NOT NULL,
    removed_ms       BIGINT,
    PRIMARY KEY (conversation_id, device_id)
);
CREATE INDEX msg_members_by_device ON msg_members (device_id);

-- Commits and application messages, in delivery order.
CREATE TABLE msg_messages (
    conversation_id  TEXT NOT NULL REFERENCES msg_conversations (id),
    seq              BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    epoch            BIGINT NOT NULL,
    sender_device    TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_ms       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- A Welcome for one device added by a commit; it reads the conversation from `seq` on.
CREATE TABLE msg_welcomes (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES msg_conversations (id),
    device_id        TEXT NOT NULL REFERENCES msg_devices (id),
    seq              BIGINT NOT NULL,
    body             TEXT NOT NULL,
    created_ms       BIGINT NOT NULL
);
CREATE INDEX msg_welcomes_by_device ON msg_welcomes (device_id);

-- Encrypted attachments; the key is inside the MLS message that refers to the blob.
CREATE TABLE msg_blobs (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES msg_conversations (id),
    device_id        TEXT NOT NULL REFERENCES msg_devices (id),
    size             BIGINT NOT NULL,
    body             TEXT NOT NULL,
    created_ms       BIGINT NOT NULL
);
CREATE INDEX msg_blobs_by_conversation ON msg_blobs (conversation_id);
