-- Alerts raised by the sentinel: what it saw, about whom (a source address, an account
-- or a session), how bad, the evidence behind it, and where the security officer is with
-- it. One ongoing attack is one row: `dedupe_key` folds repeats into it (`count`,
-- `last_ms`) until it is resolved. Each change of state is also a ledger entry.
CREATE TABLE security_alerts (
    id               TEXT PRIMARY KEY,
    dedupe_key       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    severity         TEXT NOT NULL,
    subject_kind     TEXT NOT NULL,
    subject          TEXT NOT NULL,
    summary          TEXT NOT NULL,
    evidence         TEXT NOT NULL,
    score            DOUBLE PRECISION NOT NULL,
    state            TEXT NOT NULL,
    first_ms         BIGINT NOT NULL,
    last_ms          BIGINT NOT NULL,
    count            BIGINT NOT NULL,
    acknowledged_by  TEXT,
    acknowledged_ms  BIGINT,
    resolved_by      TEXT,
    resolved_ms      BIGINT,
    note             TEXT
);
CREATE INDEX security_alerts_by_state ON security_alerts (state, last_ms);
CREATE INDEX security_alerts_by_key ON security_alerts (dedupe_key, state);
