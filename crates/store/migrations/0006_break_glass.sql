-- Break-glass: a clinician opened a record they have no care relationship with, for a
-- stated reason, until `expires_ms`. The security officer reviews each one.
CREATE TABLE break_glass (
    id            TEXT PRIMARY KEY,
    clinician_id  TEXT NOT NULL,
    patient_id    TEXT NOT NULL,
    reason        TEXT NOT NULL,
    started_ms    BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL,
    reviewed_by   TEXT,
    reviewed_ms   BIGINT,
    review_note   TEXT
);
CREATE INDEX break_glass_by_pair ON break_glass (clinician_id, patient_id, expires_ms);
CREATE INDEX break_glass_unreviewed ON break_glass (reviewed_ms, started_ms);

-- Which ledger entries concern which patient's record ("who looked at my record"),
-- written in the same transaction as the entries; the ledger stays the source of truth.
CREATE TABLE ledger_patients (
    patient_id  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (patient_id, seq)
);

-- Data leaving the server in bulk (record exports): who, whose, how much. Staff exports
-- are limited per hour from these rows; the sentinel watches them for exfiltration.
CREATE TABLE data_transfers (
    id          TEXT PRIMARY KEY,
    actor_id    TEXT NOT NULL,
    role        TEXT NOT NULL,
    patient_id  TEXT NOT NULL,
    resources   BIGINT NOT NULL,
    bytes       BIGINT NOT NULL,
    at_ms       BIGINT NOT NULL
);
CREATE INDEX data_transfers_by_actor ON data_transfers (actor_id, at_ms);
