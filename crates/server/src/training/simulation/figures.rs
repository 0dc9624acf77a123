//! The figures of the programme, in aggregate only (never who clicked): per campaign and
//! across campaigns, the report rate and median time to report first, then click and
//! submission rates and repeat clickers, each with n and a 95% interval, because a
//! practice of a dozen people reads noise as progress without them.

use std::collections::BTreeSet;

use proto::ErrorCode;
use store::phishing::{CampaignRow, RecipientRow};
use training::{CampaignMetrics, Rate, RecipientOutcome};

use crate::admin::require;
use crate::error::{AppError, AppResult};
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::state::AppState;

/// One campaign with its figures.
#[derive(Debug, Clone)]
pub struct CampaignFigures {
    pub campaign: CampaignRow,
    pub metrics: CampaignMetrics,
    /// Recipients the lure reached.
    pub sent: u64,
}

/// Every campaign, and the figures across them.
#[derive(Debug, Clone)]
pub struct Overview {
    pub enabled: bool,
    pub campaigns: Vec<CampaignFigures>,
    pub overall: CampaignMetrics,
    /// People who clicked in at least two campaigns, out of everyone sent a lure.
    pub repeat_clickers: Rate,
    /// The report rate of each sent campaign in percent, oldest first.
    pub trend: Vec<u64>,
}

fn outcome(r: &RecipientRow) -> RecipientOutcome {
    RecipientOutcome {
        sent_ms: r.sent_ms,
        opened_ms: r.opened_ms,
        clicked_ms: r.clicked_ms,
        submitted_ms: r.submitted_ms,
        reported_ms: r.reported_ms,
    }
}

fn figures(campaign: CampaignRow, recipients: &[&RecipientRow]) -> CampaignFigures {
    let outcomes: Vec<RecipientOutcome> = recipients.iter().map(|r| outcome(r)).collect();
    CampaignFigures {
        campaign,
        metrics: training::campaign_metrics(&outcomes),
        sent: recipients.iter().filter(|r| r.sent_ms.is_some()).count() as u64,
    }
}

/// The whole programme.
pub async fn overview(state: &AppState, who: &CurrentUser) -> AppResult<Overview> {
    require(who, Action::ManageTraining, Target::Practice)?;
    let all = state.db.all_recipients().await?;
    let campaigns: Vec<CampaignFigures> = state
        .db
        .campaigns()
        .await?
        .into_iter()
        .map(|c| {
            let mine: Vec<&RecipientRow> = all.iter().filter(|r| r.campaign_id == c.id).collect();
            figures(c, &mine)
        })
        .collect();
    let outcomes: Vec<RecipientOutcome> = all.iter().map(outcome).collect();
    let sent: Vec<&RecipientRow> = all.iter().filter(|r| r.sent_ms.is_some()).collect();
    let history: Vec<(&str, &str, bool)> = sent
        .iter()
        .map(|r| {
            (
                r.user_id.as_str(),
                r.campaign_id.as_str(),
                r.clicked_ms.is_some(),
            )
        })
        .collect();
    let people: BTreeSet<&str> = sent.iter().map(|r| r.user_id.as_str()).collect();
    let repeat = training::repeat_clickers(&history).len() as u64;
    let mut by_launch: Vec<&CampaignFigures> = campaigns.iter().filter(|c| c.sent > 0).collect();
    by_launch.sort_by_key(|c| c.campaign.launched_ms);
    let trend = by_launch
        .iter()
        .map(|c| {
            c.metrics
                .report_rate
                .value
                .map_or(0, |v| (v * 100.0).round() as u64)
        })
        .collect();
    Ok(Overview {
        enabled: state.db.simulations_enabled().await?,
        overall: training::campaign_metrics(&outcomes),
        repeat_clickers: training::proportion(repeat, people.len() as u64),
        trend,
        campaigns,
    })
}

/// One campaign.
pub async fn campaign(state: &AppState, who: &CurrentUser, id: &str) -> AppResult<CampaignFigures> {
    require(who, Action::ManageTraining, Target::Practice)?;
    let c = state.db.campaign(id).await?.ok_or_else(|| {
        AppError::client(ErrorCode::NotFound, "There is no campaign with that id.")
    })?;
    let recipients = state.db.recipients(&c.id).await?;
    let refs: Vec<&RecipientRow> = recipients.iter().collect();
    Ok(figures(c, &refs))
}

/// "42% (5 of 12; 95% CI 19–68%)", or "no data" with n = 0.
pub fn describe(rate: &Rate) -> String {
    match (rate.value, rate.ci_low, rate.ci_high) {
        (Some(v), Some(lo), Some(hi)) => format!(
            "{:.0}% ({} of {}; 95% CI {:.0}–{:.0}%)",
            v * 100.0,
            rate.count,
            rate.n,
            lo * 100.0,
            hi * 100.0
        ),
        _ => "no data yet (n = 0)".to_owned(),
    }
}

/// A duration in minutes or hours, for the median time to report.
pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "no reports yet".to_owned(),
        Some(ms) if ms < 3_600_000 => format!("{} min", ms / 60_000),
        Some(ms) => format!("{:.1} h", ms as f64 / 3_600_000.0),
    }
}
