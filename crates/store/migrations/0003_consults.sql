-- Consultations: published slots, appointments, guest passes, consult notes.
-- No clinical content in clear: notes and guest names are sealed with the keyring.

-- A bookable time of a clinician. Booking sets appointment_id atomically.
CREATE TABLE slots (
    id              TEXT PRIMARY KEY,
    clinician_id    TEXT NOT NULL REFERENCES users (id),
    starts_ms       BIGINT NOT NULL,
    ends_ms         BIGINT NOT NULL,
    appointment_id  TEXT,
    created_ms      BIGINT NOT NULL
);
CREATE UNIQUE INDEX slots_by_clinician_start ON slots (clinician_id, starts_ms);

-- An appointment between a clinician and a patient (an account, or a guest with a pass).
CREATE TABLE appointments (
    id            TEXT PRIMARY KEY,
    clinician_id  TEXT NOT NULL REFERENCES users (id),
    patient_id    TEXT REFERENCES users (id),
    slot_id       TEXT,
    starts_ms     BIGINT NOT NULL,
    ends_ms       BIGINT NOT NULL,
    status        TEXT NOT NULL,
    booked_by     TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    cancelled_ms  BIGINT,
    reminded_ms   BIGINT,
    started_ms    BIGINT,
    ended_ms      BIGINT,
    verified_ms   BIGINT
);
CREATE INDEX appointments_by_clinician ON appointments (clinician_id, starts_ms);
CREATE INDEX appointments_by_patient ON appointments (patient_id, starts_ms);

-- A guest's way in: a single-use link and a 6-digit code, both bound to one
-- appointment and expiring with it. Only hashes are kept; the name is sealed.
CREATE TABLE guest_passes (
    appointment_id  TEXT PRIMARY KEY REFERENCES appointments (id),
    token_hash      TEXT NOT NULL UNIQUE,
    code_hash       TEXT NOT NULL,
    name_sealed     TEXT NOT NULL,
    email           TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL,
    used_ms         BIGINT,
    attempts        BIGINT NOT NULL DEFAULT 0
);

-- A guest admitted by pass: a browser session bound to one appointment only.
CREATE TABLE guest_sessions (
    id_hash         TEXT PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments (id),
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL
);

-- The clinician's notes of a consult, sealed (purpose "consult-notes", bound to the
-- appointment).
CREATE TABLE consult_notes (
    appointment_id  TEXT PRIMARY KEY REFERENCES appointments (id),
    author_id       TEXT NOT NULL REFERENCES users (id),
    sealed          TEXT NOT NULL,
    updated_ms      BIGINT NOT NULL
);

-- Files a clinician chose to keep from a consult, sealed.
CREATE TABLE consult_files (
    id              TEXT PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments (id),
    saved_by        TEXT NOT NULL REFERENCES users (id),
    name_sealed     TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sealed          TEXT NOT NULL,
    created_ms      BIGINT NOT NULL
);
CREATE INDEX consult_files_by_appointment ON consult_files (appointment_id);
