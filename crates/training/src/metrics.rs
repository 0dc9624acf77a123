//! Programme metrics, each with its sample size and a 95% confidence interval.
//!
//! Small practices run campaigns on a dozen people, where "25% clicked" may be 3 of 12
//! and the interval spans most of the range. Showing n and the Wilson interval keeps the
//! security officer from reading noise as progress. The headline is the report rate and
//! the median time to report, not the click rate: reporting is what lets the practice act,
//! and click rates are easily polluted and say little on their own.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::assignment::Status;

/// The normal quantile for a two-sided 95% interval.
pub const Z_95: f64 = 1.96;

/// A proportion with its 95% Wilson score interval. With `n == 0` there is no estimate,
/// and the three values are `None` (never NaN).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// The number of trials (people, recipients).
    pub n: u64,
    /// How many of them had the outcome.
    pub count: u64,
    /// `count / n`.
    pub value: Option<f64>,
    /// Lower end of the 95% interval.
    pub ci_low: Option<f64>,
    /// Upper end of the 95% interval.
    pub ci_high: Option<f64>,
}

/// `successes` out of `n`, with the Wilson score interval (z = 1.96). Wilson rather than
/// the textbook `p ± z·√(p(1-p)/n)` because that one collapses to zero width at 0/n
/// and n/n and leaves [0, 1] for small n, which is exactly where practices live.
/// `successes` above `n` is treated as `n`.
pub fn proportion(successes: u64, n: u64) -> Rate {
    let count = successes.min(n);
    if n == 0 {
        return Rate {
            n,
            count,
            value: None,
            ci_low: None,
            ci_high: None,
        };
    }
    // u64 to f64 is exact below 2^53, far beyond any practice.
    let (k, nf) = (count as f64, n as f64);
    let p = k / nf;
    let z2 = Z_95 * Z_95;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = Z_95 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    // The interval touches 0 and 1 exactly at 0/n and n/n; rounding must not move it.
    let low = if count == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if count == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Rate {
        n,
        count,
        value: Some(p),
        ci_low: Some(low),
        ci_high: Some(high),
    }
}

/// The median, sorting `values` in place; for an even count, the mean of the two middle
/// values rounded down. `None` for no values.
pub fn median_ms(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    let upper = *values.get(mid)?;
    if values.len() % 2 == 1 {
        return Some(upper);
    }
    let lower = *values.get(mid - 1)?;
    let mean = (i128::from(lower) + i128::from(upper)).div_euclid(2);
    i64::try_from(mean).ok()
}

/// What happened to one recipient of a campaign (Unix ms; `None` if it did not happen).
/// `clicked_ms` is the first click that [`crate::is_human_click`] accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientOutcome {
    /// When the lure was delivered; recipients never sent to are left out of every rate.
    pub sent_ms: Option<i64>,
    /// First open (indicative only: scanners open mail too).
    pub opened_ms: Option<i64>,
    /// First human click.
    pub clicked_ms: Option<i64>,
    /// First form submission.
    pub submitted_ms: Option<i64>,
    /// First report.
    pub reported_ms: Option<i64>,
}

/// The numbers for one campaign. Every rate's `n` is the number of recipients sent to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CampaignMetrics {
    /// Recipients who reported the lure: the headline.
    pub report_rate: Rate,
    /// Median of `reported_ms - sent_ms` over those who reported.
    pub median_time_to_report_ms: Option<i64>,
    /// Recipients who reported without having clicked first.
    pub report_before_click_rate: Rate,
    /// Recipients with a human click.
    pub click_rate: Rate,
    /// Recipients who submitted the landing page's form.
    pub submission_rate: Rate,
}

/// The metrics of one campaign from each recipient's outcome.
pub fn campaign_metrics(per_recipient: &[RecipientOutcome]) -> CampaignMetrics {
    let sent: Vec<(i64, &RecipientOutcome)> = per_recipient
        .iter()
        .filter_map(|r| r.sent_ms.map(|s| (s, r)))
        .collect();
    let n = sent.len() as u64;
    let count =
        |f: &dyn Fn(&RecipientOutcome) -> bool| sent.iter().filter(|(_, r)| f(r)).count() as u64;
    let reported = count(&|r| r.reported_ms.is_some());
    let clicked = count(&|r| r.clicked_ms.is_some());
    let submitted = count(&|r| r.submitted_ms.is_some());
    let before_click = count(&|r| match (r.reported_ms, r.clicked_ms) {
        (Some(_), None) => true,
        (Some(rep), Some(click)) => rep < click,
        _ => false,
    });
    // A report timed before the send is a recording error: left out of the median.
    let mut times: Vec<i64> = sent
        .iter()
        .filter_map(|(s, r)| r.reported_ms.map(|rep| rep.saturating_sub(*s)))
        .filter(|t| *t >= 0)
        .collect();
    CampaignMetrics {
        report_rate: proportion(reported, n),
        median_time_to_report_ms: median_ms(&mut times),
        report_before_click_rate: proportion(before_click, n),
        click_rate: proportion(clicked, n),
        submission_rate: proportion(submitted, n),
    }
}

/// How many campaigns someone must have clicked in to be a repeat clicker.
pub const REPEAT_CLICKS: usize = 2;

/// Recipients who clicked in at least [`REPEAT_CLICKS`] different campaigns, sorted and
/// without duplicates. `history` holds `(recipient, campaign, clicked)`; several rows for
/// one recipient and campaign count once. The list is for offering help (a short lesson,
/// a chat), not for discipline.
pub fn repeat_clickers<R, C>(history: &[(R, C, bool)]) -> Vec<R>
where
    R: Ord + Clone,
    C: Ord,
{
    let mut clicks: BTreeMap<&R, BTreeSet<&C>> = BTreeMap::new();
    for (recipient, campaign, clicked) in history {
        if *clicked {
            clicks.entry(recipient).or_default().insert(campaign);
        }
    }
    clicks
        .into_iter()
        .filter(|(_, campaigns)| campaigns.len() >= REPEAT_CLICKS)
        .map(|(r, _)| r.clone())
        .collect()
}

/// Staff whose training is complete (every lesson within its year), out of all staff.
pub fn completion_rate(statuses: &[Status]) -> Rate {
    let done = statuses.iter().filter(|s| s.complete).count() as u64;
    proportion(done, statuses.len() as u64)
}
