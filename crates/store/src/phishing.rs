//! Phishing simulation storage: campaigns, their recipients with one timestamp per event,
//! and "report suspicious" reports.
//!
//! Every event is recorded at most once per recipient (`… WHERE <event>_ms IS NULL`), so a
//! replayed link, beacon or report can never be counted twice. There is deliberately no
//! place here for anything a person typed on a landing page.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// The `server_state` key of the practice's opt-in (`on` or `off`).
pub const OPT_IN_KEY: &str = "training.simulations";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRow {
    pub id: String,
    pub name: String,
    pub lure_id: String,
    pub subject: String,
    pub body: String,
    pub landing: String,
    pub target: String,
    pub scheduled_ms: Option<i64>,
    pub created_by: String,
    pub created_ms: i64,
    pub launched_ms: Option<i64>,
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRow {
    pub id: String,
    pub campaign_id: String,
    pub user_id: String,
    pub sent_ms: Option<i64>,
    pub opened_ms: Option<i64>,
    pub fetched_ms: Option<i64>,
    pub clicked_ms: Option<i64>,
    pub submitted_ms: Option<i64>,
    pub reported_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub id: String,
    pub user_id: String,
    /// `email` or `notice`.
    pub what: String,
    pub reference: String,
    pub reported_ms: i64,
    pub campaign_id: Option<String>,
}

/// A recipient event with a column of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Sent,
    Opened,
    Fetched,
    Clicked,
    Submitted,
    Reported,
}

impl Column {
    /// The statement that records this event once (one literal per column).
    fn record_once(self) -> &'static str {
        macro_rules! once {
            ($c:literal) => {
                concat!(
                    "UPDATE phishing_recipients SET ",
                    $c,
                    " = $1 WHERE id = $2 AND ",
                    $c,
                    " IS NULL"
                )
            };
        }
        match self {
            Column::Sent => once!("sent_ms"),
            Column::Opened => once!("opened_ms"),
            Column::Fetched => once!("fetched_ms"),
            Column::Clicked => once!("clicked_ms"),
            Column::Submitted => once!("submitted_ms"),
            Column::Reported => once!("reported_ms"),
        }
    }
}

macro_rules! campaign_columns {
    () => {
        "id, name, lure_id, subject, body, landing, target, scheduled_ms, created_by, \
         created_ms, launched_ms, state"
    };
}
macro_rules! recipient_columns {
    () => {
        "id, campaign_id, user_id, sent_ms, opened_ms, fetched_ms, clicked_ms, submitted_ms, \
         reported_ms"
    };
}

fn campaign_from(r: &AnyRow) -> Result<CampaignRow, StoreError> {
    Ok(CampaignRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        lure_id: r.try_get("lure_id")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        landing: r.try_get("landing")?,
        target: r.try_get("target")?,
        scheduled_ms: r.try_get("scheduled_ms")?,
        created_by: r.try_get("created_by")?,
        created_ms: r.try_get("created_ms")?,
        launched_ms: r.try_get("launched_ms")?,
        state: r.try_get("state")?,
    })
}

fn recipient_from(r: &AnyRow) -> Result<RecipientRow, StoreError> {
    Ok(RecipientRow {
        id: r.try_get("id")?,
        campaign_id: r.try_get("campaign_id")?,
        user_id: r.try_get("user_id")?,
        sent_ms: r.try_get("sent_ms")?,
        opened_ms: r.try_get("opened_ms")?,
        fetched_ms: r.try_get("fetched_ms")?,
        clicked_ms: r.try_get("clicked_ms")?,
        submitted_ms: r.try_get("submitted_ms")?,
        reported_ms: r.try_get("reported_ms")?,
    })
}

impl Db {
    /// Whether the practice has turned phishing simulations on (off until it does).
    pub async fn simulations_enabled(&self) -> Result<bool, StoreError> {
        Ok(self.server_state(OPT_IN_KEY).await?.as_deref() == Some("on"))
    }

    pub async fn set_simulations_enabled(&self, on: bool) -> Result<(), StoreError> {
        self.set_server_state(OPT_IN_KEY, if on { "on" } else { "off" })
            .await
    }

    pub async fn insert_campaign(&self, c: &CampaignRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO phishing_campaigns (id, name, lure_id, subject, body, landing, target, \
             scheduled_ms, created_by, created_ms, launched_ms, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.lure_id)
        .bind(&c.subject)
        .bind(&c.body)
        .bind(&c.landing)
        .bind(&c.target)
        .bind(c.scheduled_ms)
        .bind(&c.created_by)
        .bind(c.created_ms)
        .bind(c.launched_ms)
        .bind(&c.state)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn campaign(&self, id: &str) -> Result<Option<CampaignRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM phishing_campaigns WHERE id = $1"
        );
        sqlx::query(sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(campaign_from)
            .transpose()
    }

    /// Every campaign, oldest first.
    pub async fn campaigns(&self) -> Result<Vec<CampaignRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM phishing_campaigns ORDER BY created_ms, id"
        );
        sqlx::query(sql)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(campaign_from)
            .collect()
    }

    /// Scheduled campaigns whose time has come.
    pub async fn due_campaigns(&self, now_ms: i64) -> Result<Vec<CampaignRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM phishing_campaigns \
             WHERE state = 'scheduled' AND scheduled_ms <= $1 ORDER BY scheduled_ms, id"
        );
        sqlx::query(sql)
            .bind(now_ms)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(campaign_from)
            .collect()
    }

    /// Claims a scheduled campaign for sending; false if another pass (or node) has it.
    pub async fn claim_campaign(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE phishing_campaigns SET state = 'sending', launched_ms = $1 \
             WHERE id = $2 AND state = 'scheduled'",
        )
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    pub async fn finish_campaign(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE phishing_campaigns SET state = 'sent' WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Adds a recipient; false if the person is already one.
    pub async fn insert_recipient(&self, r: &RecipientRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO phishing_recipients (id, campaign_id, user_id) VALUES ($1, $2, $3) \
             ON CONFLICT (campaign_id, user_id) DO NOTHING",
        )
        .bind(&r.id)
        .bind(&r.campaign_id)
        .bind(&r.user_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// The recipient `id` of campaign `campaign_id`, if both exist and belong together.
    pub async fn recipient(
        &self,
        campaign_id: &str,
        id: &str,
    ) -> Result<Option<RecipientRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            recipient_columns!(),
            " FROM phishing_recipients WHERE campaign_id = $1 AND id = $2"
        );
        sqlx::query(sql)
            .bind(campaign_id)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(recipient_from)
            .transpose()
    }

    pub async fn recipients(&self, campaign_id: &str) -> Result<Vec<RecipientRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            recipient_columns!(),
            " FROM phishing_recipients WHERE campaign_id = $1 ORDER BY id"
        );
        sqlx::query(sql)
            .bind(campaign_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(recipient_from)
            .collect()
    }

    /// Every recipient of every campaign (for the figures across campaigns).
    pub async fn all_recipients(&self) -> Result<Vec<RecipientRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            recipient_columns!(),
            " FROM phishing_recipients ORDER BY id"
        );
        sqlx::query(sql)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(recipient_from)
            .collect()
    }

    /// Records `event` for a recipient at `at_ms`, once: true if this was the first time.
    pub async fn record_event(
        &self,
        recipient_id: &str,
        event: Column,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(event.record_once())
            .bind(at_ms)
            .bind(recipient_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(done == 1)
    }

    pub async fn insert_suspicious_report(&self, r: &ReportRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO suspicious_reports (id, user_id, what, reference, reported_ms, campaign_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.id)
        .bind(&r.user_id)
        .bind(&r.what)
        .bind(&r.reference)
        .bind(r.reported_ms)
        .bind(&r.campaign_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The most recent reports, newest first.
    pub async fn suspicious_reports(&self, limit: i64) -> Result<Vec<ReportRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, what, reference, reported_ms, campaign_id FROM suspicious_reports \
             ORDER BY reported_ms DESC, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportRow {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    what: r.try_get("what")?,
                    reference: r.try_get("reference")?,
                    reported_ms: r.try_get("reported_ms")?,
                    campaign_id: r.try_get("campaign_id")?,
                })
            })
            .collect()
    }
}
