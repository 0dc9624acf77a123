-- Patient records (FHIR R4 resources), sealed at rest: every version of every resource
-- is kept, sealed under its patient's data key (see envelope encryption); nothing here
-- is readable without the master key. Search goes through keyed blind indexes.

-- Every version ever written; a deletion is a version too (a tombstone, sealed empty).
CREATE TABLE record_versions (
    resource_type  TEXT NOT NULL,
    id             TEXT NOT NULL,
    version        BIGINT NOT NULL,
    owner          TEXT NOT NULL,
    sealed         TEXT NOT NULL,
    deleted        BIGINT NOT NULL,   -- 0 or 1
    author         TEXT NOT NULL,
    created_ms     BIGINT NOT NULL,
    PRIMARY KEY (resource_type, id, version)
);

-- The current version of each resource: updates move it only from the version the
-- writer read (optimistic concurrency, FHIR's If-Match).
CREATE TABLE record_heads (
    resource_type  TEXT NOT NULL,
    id             TEXT NOT NULL,
    version        BIGINT NOT NULL,
    owner          TEXT NOT NULL,
    deleted        BIGINT NOT NULL,   -- 0 or 1
    updated_ms     BIGINT NOT NULL,
    PRIMARY KEY (resource_type, id)
);
CREATE INDEX record_heads_by_owner ON record_heads (owner, resource_type);

-- Blind-index tokens of each resource's current version: (search parameter, HMAC).
CREATE TABLE record_index (
    resource_type  TEXT NOT NULL,
    param          TEXT NOT NULL,
    token          TEXT NOT NULL,
    id             TEXT NOT NULL,
    PRIMARY KEY (resource_type, param, token, id)
);
CREATE INDEX record_index_by_resource ON record_index (resource_type, id);

-- Clinicians caring for a patient (besides those with an appointment with them): the
-- clinician who registers a patient's record joins it.
CREATE TABLE care_team (
    patient_id    TEXT NOT NULL,
    clinician_id  TEXT NOT NULL,
    since_ms      BIGINT NOT NULL,
    PRIMARY KEY (patient_id, clinician_id)
);
