-- Security training: lessons passed (by lesson version, with the digest of the text
-- that was read), policy acknowledgements by version, and the escalating reminders
-- already sent for a due date (each level once).

CREATE TABLE training_completions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    lesson_id   TEXT NOT NULL,
    version     BIGINT NOT NULL,
    digest      TEXT NOT NULL,
    percent     BIGINT NOT NULL,
    passed_ms   BIGINT NOT NULL
);
CREATE INDEX training_completions_by_user ON training_completions (user_id, lesson_id);

CREATE TABLE policy_acknowledgements (
    user_id          TEXT NOT NULL REFERENCES users (id),
    policy_id        TEXT NOT NULL,
    version          BIGINT NOT NULL,
    digest           TEXT NOT NULL,
    acknowledged_ms  BIGINT NOT NULL,
    PRIMARY KEY (user_id, policy_id, version)
);

CREATE TABLE training_reminders (
    user_id  TEXT NOT NULL REFERENCES users (id),
    due_ms   BIGINT NOT NULL,
    level    TEXT NOT NULL,
    sent_ms  BIGINT NOT NULL,
    PRIMARY KEY (user_id, due_ms, level)
);
