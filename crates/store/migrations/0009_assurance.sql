-- Assurance: runs of the automated checks and their results, the guided questionnaire's
-- answers, the risk register with its history, formal and triggered reviews, and
-- incidents (their record sealed: it describes what happened to whom).

-- `seq` orders runs (and their results) even when the clock gives two runs the same
-- millisecond.
CREATE TABLE assurance_runs (
    id          TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL UNIQUE,
    started_ms  BIGINT NOT NULL,
    trigger     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    passed      BIGINT NOT NULL,
    failed      BIGINT NOT NULL,
    cannot_run  BIGINT NOT NULL
);

CREATE TABLE check_results (
    run_id       TEXT NOT NULL REFERENCES assurance_runs (id),
    run_seq      BIGINT NOT NULL,
    check_id     TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    summary      TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    observed_ms  BIGINT NOT NULL,
    PRIMARY KEY (run_id, check_id)
);
CREATE INDEX check_results_by_check ON check_results (check_id, run_seq);

CREATE TABLE assessment_answers (
    question_id   TEXT PRIMARY KEY,
    answer        TEXT,
    note          TEXT NOT NULL,
    delegated_to  TEXT,
    answered_by   TEXT,
    answered_ms   BIGINT,
    updated_ms    BIGINT NOT NULL
);

CREATE TABLE risks (
    id                   TEXT PRIMARY KEY,
    scenario_id          TEXT NOT NULL UNIQUE,
    assessed_likelihood  BIGINT NOT NULL,
    impact               BIGINT NOT NULL,
    likelihood           BIGINT NOT NULL,
    level                BIGINT NOT NULL,
    treatment            TEXT,
    plan                 TEXT NOT NULL,
    owner                TEXT,
    due_ms               BIGINT,
    approver             TEXT,
    accept_until_ms      BIGINT,
    transfer_to          TEXT,
    verified_ms          BIGINT,
    verified_by          TEXT,
    status               TEXT NOT NULL,
    updated_ms           BIGINT NOT NULL
);

CREATE TABLE risk_history (
    risk_id     TEXT NOT NULL REFERENCES risks (id),
    at_ms       BIGINT NOT NULL,
    likelihood  BIGINT NOT NULL,
    impact      BIGINT NOT NULL,
    level       BIGINT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX risk_history_by_risk ON risk_history (risk_id, at_ms);

CREATE TABLE assurance_reviews (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    opened_ms     BIGINT NOT NULL,
    due_ms        BIGINT NOT NULL,
    completed_ms  BIGINT,
    completed_by  TEXT,
    summary       TEXT
);

CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    opened_ms    BIGINT NOT NULL,
    opened_by    TEXT NOT NULL,
    alert_id     TEXT,
    closed_ms    BIGINT,
    record       TEXT NOT NULL,
    updated_ms   BIGINT NOT NULL
);
