-- Phishing simulations: campaigns, their recipients with one timestamp per event (each
-- recorded once), and "report suspicious" reports. The practice's opt-in is the
-- `server_state` key `training.simulations`.
--
-- Nothing a person types on a landing page has a column here, by design: the landing
-- page's form sends no field values and the server records only that it was submitted.

CREATE TABLE phishing_campaigns (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    -- A built-in lure's id, or 'custom'.
    lure_id       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    landing       TEXT NOT NULL,
    -- 'all_staff' or one staff role; never patients.
    target        TEXT NOT NULL,
    scheduled_ms  BIGINT,
    created_by    TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    launched_ms   BIGINT,
    -- 'scheduled', 'sending', 'sent'.
    state         TEXT NOT NULL
);
CREATE INDEX phishing_campaigns_due ON phishing_campaigns (state, scheduled_ms);

-- `id` is what the tracking link carries: an opaque id, not the account's.
CREATE TABLE phishing_recipients (
    id            TEXT PRIMARY KEY,
    campaign_id   TEXT NOT NULL REFERENCES phishing_campaigns (id),
    user_id       TEXT NOT NULL,
    sent_ms       BIGINT,
    opened_ms     BIGINT,
    fetched_ms    BIGINT,
    clicked_ms    BIGINT,
    submitted_ms  BIGINT,
    reported_ms   BIGINT,
    UNIQUE (campaign_id, user_id)
);
CREATE INDEX phishing_recipients_by_user ON phishing_recipients (user_id);

CREATE TABLE suspicious_reports (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    -- 'email' or 'notice'.
    what         TEXT NOT NULL,
    reference    TEXT NOT NULL,
    reported_ms  BIGINT NOT NULL,
    campaign_id  TEXT
);
CREATE INDEX suspicious_reports_by_user ON suspicious_reports (user_id, reported_ms);
