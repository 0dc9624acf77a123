//! Incidents and breaches as the security officer records them: opened from an alert or
//! by hand, facts and timestamps that start the NDB and HIPAA clocks, containment and
//! remedial actions, the serious-harm and four-factor assessments, notices given, and
//! closure. The record is sealed at rest (it says what happened to whom); the ledger
//! gets one entry per change, naming the incident and the kind of change, never its
//! content. Every change is checked by the `breach` crate's rules before it is stored,
//! and against the version the officer was looking at, so two people editing at once
//! do not overwrite each other.

use std::collections::BTreeMap;

use breach::{
    Action as Step, Duty, FourFactorAssessment, Incident, Notification, Practice,
    SeriousHarmAssessment, Source, TimeZone,
};
use ledger::Outcome as LedgerOutcome;
use proto::ErrorCode;
use serde::Deserialize;
use store::assurance::IncidentRow;

use crate::admin::require;
use crate::assurance::{actor, reviews};
use crate::audit::entry;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::setup::new_id;
use crate::state::AppState;

const SEAL_PURPOSE: &str = "incident record v1";
const CONTACT_KEY: &str = "assurance.notice_contact";

/// An incident as read back: its row and its opened record.
#[derive(Debug, Clone)]
pub struct Opened {
    pub row: IncidentRow,
    pub incident: Incident,
}

fn stale() -> AppError {
    AppError::client(
        ErrorCode::Conflict,
        "Someone changed this incident since you opened it: reload the page and make your change again.",
    )
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::client(ErrorCode::InvalidInput, message)
}

fn seal(state: &AppState, id: &str, incident: &Incident) -> AppResult<String> {
    let json =
        serde_json::to_vec(incident).map_err(|e| AppError::internal(format!("incident: {e}")))?;
    state
        .keyring
        .seal(SEAL_PURPOSE, id.as_bytes(), &json)
        .map_err(|e| AppError::internal(format!("sealing an incident: {e}")))
}

fn open(state: &AppState, row: IncidentRow) -> AppResult<Opened> {
    let plain = state
        .keyring
        .open(SEAL_PURPOSE, row.id.as_bytes(), &row.record)
        .map_err(|e| AppError::internal(format!("opening incident {}: {e}", row.id)))?;
    let incident = serde_json::from_slice(&plain)
        .map_err(|e| AppError::internal(format!("incident {}: {e}", row.id)))?;
    Ok(Opened { row, incident })
}

/// The practice's time zone, for the clocks.
pub use crate::consult::schedule::practice_zone as zone;

/// Every incident, newest first.
pub async fn list(state: &AppState, who: &CurrentUser) -> AppResult<Vec<Opened>> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    state
        .db
        .incidents()
        .await?
        .into_iter()
        .map(|r| open(state, r))
        .collect()
}

/// Every incident, for reports (the caller checked the permission).
pub async fn all(state: &AppState) -> AppResult<Vec<Opened>> {
    state
        .db
        .incidents()
        .await?
        .into_iter()
        .map(|r| open(state, r))
        .collect()
}

/// One incident.
pub async fn get(state: &AppState, who: &CurrentUser, id: &str) -> AppResult<Opened> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let row = state
        .db
        .incident(id)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::NotFound, "There is no such incident."))?;
    open(state, row)
}

/// One incident, for its page: the reading is in the ledger (its record is sealed
/// because it says what happened to whom).
pub async fn view(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
) -> AppResult<Opened> {
    let opened = get(state, who, id).await?;
    let audit = entry(
        meta,
        &actor(who),
        "assurance.incident_viewed",
        &format!("incident:{id}"),
        LedgerOutcome::Success,
    );
    state.audit(audit).await?;
    Ok(opened)
}

/// Who notices name as the practice's contact.
pub async fn contact(state: &AppState) -> AppResult<Practice> {
    let mut p: Practice = state
        .db
        .server_state(CONTACT_KEY)
        .await?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    if p.name.is_empty() {
        p.name = state
            .db
            .practice()
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
    }
    Ok(p)
}

/// Sets the contact details notices give.
pub async fn set_contact(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    p: &Practice,
) -> AppResult<()> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let fields = [
        &p.name,
        &p.contact_name,
        &p.phone,
        &p.email,
        &p.address,
        &p.website,
    ];
    if fields.iter().any(|f| f.chars().count() > 300) {
        return Err(invalid(
            "Each contact detail must be at most 300 characters.",
        ));
    }
    let json = serde_json::to_string(p).map_err(|e| AppError::internal(format!("contact: {e}")))?;
    let audit = entry(
        meta,
        &actor(who),
        "assurance.notice_contact_set",
        "practice",
        LedgerOutcome::Success,
    );
    state
        .audited(audit, async {
            Ok(state.db.set_server_state(CONTACT_KEY, &json).await?)
        })
        .await
}

/// The facts form: everything that describes the incident and starts its clocks.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FactsForm {
    pub title: String,
    pub description: String,
    /// One kind per line (or comma-separated).
    pub kinds: String,
    /// One step per line.
    pub steps: String,
    pub occurred: String,
    pub aware_suspected: String,
    pub reasonable_grounds: String,
    pub discovered: String,
    pub affected_total: String,
    /// `CA=600, NSW=20`.
    pub affected_by_state: String,
    pub unreachable: String,
    pub data_encrypted: Option<String>,
    pub my_health_record: Option<String>,
    pub delay_until: String,
    pub delay_days: String,
    pub alert_id: String,
}

fn lines(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

fn when(field: &str, raw: &str, tz: &TimeZone) -> AppResult<Option<i64>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    breach::parse_timestamp_ms(raw, tz)
        .map(Some)
        .map_err(|e| invalid(format!("{field}: {e}")))
}

fn count(field: &str, raw: &str) -> AppResult<u64> {
    let raw = raw.trim().replace([',', '_', ' '], "");
    if raw.is_empty() {
        return Ok(0);
    }
    raw.parse().map_err(|_| {
        invalid(format!(
            "{field} must be a whole number of people (0 if not yet known)."
        ))
    })
}

fn by_state(raw: &str) -> AppResult<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for part in raw
        .split([',', '\n', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (code, n) = part.split_once('=').ok_or_else(|| {
            invalid("People per state: write each as CODE=number, e.g. CA=600, NSW=20.")
        })?;
        let code = code.trim().to_uppercase();
        if code.is_empty() || code.len() > 8 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid(
                "People per state: a state code is 1 to 8 letters, e.g. CA or NSW.",
            ));
        }
        let n = count(&format!("People in {code}"), n)?;
        if out.insert(code.clone(), n).is_some() {
            return Err(invalid(format!("People per state: {code} is given twice.")));
        }
    }
    Ok(out)
}

fn apply_facts(incident: &mut Incident, form: &FactsForm, tz: &TimeZone) -> AppResult<()> {
    incident.title = form.title.split_whitespace().collect::<Vec<_>>().join(" ");
    incident.description = form.description.trim().to_owned();
    incident.kinds_of_information = lines(&form.kinds);
    incident.recommended_steps = form
        .steps
        .lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    incident.occurred_ms = when("When it happened", &form.occurred, tz)?;
    incident.aware_suspected_ms = when("Aware of a suspected breach", &form.aware_suspected, tz)?;
    incident.reasonable_grounds_ms = when(
        "Reasonable grounds to believe",
        &form.reasonable_grounds,
        tz,
    )?;
    incident.discovered_ms = when("Discovered (HIPAA)", &form.discovered, tz)?;
    incident.affected_total = count("People affected", &form.affected_total)?;
    incident.affected_by_state = by_state(&form.affected_by_state)?;
    incident.unreachable_count = count("People who cannot be reached", &form.unreachable)?;
    incident.data_encrypted = form.data_encrypted.is_some();
    incident.my_health_record = form.my_health_record.is_some();
    incident.law_enforcement_delay_until_ms =
        when("Law-enforcement delay until", &form.delay_until, tz)?;
    incident.law_enforcement_delay_days = match form.delay_days.trim() {
        "" => None,
        d => Some(
            d.parse()
                .map_err(|_| invalid("Law-enforcement delay: a whole number of days."))?,
        ),
    };
    if incident.title.chars().count() > 200 || incident.description.chars().count() > 10_000 {
        return Err(invalid(
            "The title is at most 200 characters and the description at most 10,000.",
        ));
    }
    Ok(())
}

fn validated(incident: &Incident, now_ms: i64) -> AppResult<()> {
    incident.validate().map_err(|e| invalid(format!("{e}.")))?;
    for (name, at) in clock_dates(incident) {
        if at.is_some_and(|t| t > now_ms) {
            return Err(invalid(format!("{name} cannot be in the future.")));
        }
    }
    Ok(())
}

/// The dates that start or bear on the legal clocks, by the name the form gives them.
fn clock_dates(i: &Incident) -> [(&'static str, Option<i64>); 4] {
    [
        ("When it happened", i.occurred_ms),
        ("Aware of a suspected breach", i.aware_suspected_ms),
        ("Reasonable grounds to believe", i.reasonable_grounds_ms),
        ("Discovered (HIPAA)", i.discovered_ms),
    ]
}

/// Opens an incident from the facts form (from an alert when `alert_id` is given), and a
/// triggered review of the risk assessment.
pub async fn open_incident(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    form: &FactsForm,
) -> AppResult<String> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let tz = zone(state).await?;
    let mut incident = Incident::default();
    apply_facts(&mut incident, form, &tz)?;
    let alert_id = form.alert_id.trim();
    if !alert_id.is_empty() {
        state
            .db
            .alert(alert_id)
            .await?
            .ok_or_else(|| invalid("There is no alert with that id."))?;
        incident.source = Source::Alert {
            alert_id: alert_id.to_owned(),
        };
    }
    if incident.first_known_ms().is_none() {
        incident.aware_suspected_ms = Some(state.clock.now_ms());
    }
    let now = state.clock.now_ms();
    validated(&incident, now)?;
    let id = new_id()?;
    let row = IncidentRow {
        id: id.clone(),
        opened_ms: now,
        opened_by: who.user.id.clone(),
        alert_id: (!alert_id.is_empty()).then(|| alert_id.to_owned()),
        closed_ms: None,
        record: seal(state, &id, &incident)?,
        updated_ms: now,
    };
    let audit = entry(
        meta,
        &actor(who),
        "assurance.incident_opened",
        &format!("incident:{id}"),
        LedgerOutcome::Success,
    )
    .detail("from_alert", !alert_id.is_empty());
    state
        .audited(audit, async {
            state.db.insert_incident(&row).await?;
            reviews::trigger(
                state,
                &format!("incident {} opened", id.get(..8).unwrap_or(&id)),
            )
            .await?;
            Ok(())
        })
        .await?;
    Ok(id)
}

/// What one change to an incident is.
#[derive(Debug)]
pub enum Change {
    Facts(Box<FactsForm>),
    Step {
        remedial: bool,
        text: String,
    },
    Ndb {
        likely_serious_harm: bool,
        remedial_prevented: bool,
        rationale: String,
    },
    Hipaa {
        factors: [String; 4],
        low_probability: bool,
    },
    Notice {
        duty: String,
        sent: String,
        method: String,
        reference: String,
    },
    Close {
        reason: String,
    },
}

impl Change {
    fn name(&self) -> &'static str {
        match self {
            Change::Facts(_) => "facts",
            Change::Step {
                remedial: false, ..
            } => "containment",
            Change::Step { remedial: true, .. } => "remedial_action",
            Change::Ndb { .. } => "ndb_assessment",
            Change::Hipaa { .. } => "hipaa_assessment",
            Change::Notice { .. } => "notification",
            Change::Close { .. } => "closed",
        }
    }
}

fn text(field: &str, raw: &str, max: usize) -> AppResult<String> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(invalid(format!("{field}: write 1 to {max} characters.")));
    }
    Ok(t.to_owned())
}

/// Applies `change` to incident `id`, last seen at version `seen_updated_ms`.
pub async fn change(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
    seen_updated_ms: i64,
    change: Change,
) -> AppResult<()> {
    let Opened { row, mut incident } = get(state, who, id).await?;
    if row.closed_ms.is_some() {
        return Err(AppError::client(
            ErrorCode::Conflict,
            "This incident is closed; its record is kept as it was.",
        ));
    }
    if seen_updated_ms != row.updated_ms {
        return Err(stale());
    }
    let before = clock_dates(&incident);
    let tz = zone(state).await?;
    let now = state.clock.now_ms();
    let by = format!("user:{}", who.user.id);
    let name = change.name();
    match change {
        Change::Facts(form) => apply_facts(&mut incident, form.as_ref(), &tz)?,
        Change::Step { remedial, text: t } => {
            let step = Step {
                at_ms: now,
                by,
                text: text("The action", &t, 2000)?,
            };
            if remedial {
                incident.remedial.push(step);
            } else {
                incident.containment.push(step);
            }
        }
        Change::Ndb {
            likely_serious_harm,
            remedial_prevented,
            rationale,
        } => {
            incident.ndb = Some(SeriousHarmAssessment {
                likely_serious_harm,
                remedial_action_prevented_harm: remedial_prevented,
                rationale: text("The reasoning", &rationale, 10_000)?,
                decided_by: by,
                decided_ms: now,
            });
        }
        Change::Hipaa {
            factors,
            low_probability,
        } => {
            let [a, b, c, d] = factors;
            incident.hipaa = Some(FourFactorAssessment {
                nature_and_extent: text("Nature and extent", &a, 4000)?,
                unauthorized_person: text("Who received it", &b, 4000)?,
                acquired_or_viewed: text("Acquired or viewed", &c, 4000)?,
                mitigation: text("Mitigation", &d, 4000)?,
                low_probability_of_compromise: low_probability,
                decided_by: by,
                decided_ms: now,
            });
        }
        Change::Notice {
            duty,
            sent,
            method,
            reference,
        } => {
            let duty: Duty = duty
                .trim()
                .parse()
                .map_err(|e: breach::BreachError| invalid(format!("{e}.")))?;
            let sent_ms = when("Sent", &sent, &tz)?.unwrap_or(now);
            if sent_ms > now {
                return Err(invalid(
                    "A notice cannot be recorded as sent in the future.",
                ));
            }
            incident.notifications.push(Notification {
                duty,
                sent_ms,
                method: text("How it was sent", &method, 200)?,
                reference: reference.trim().chars().take(500).collect(),
            });
        }
        Change::Close { reason } => {
            incident.closed_ms = Some(now);
            incident.closed_reason = Some(text("Why it is closed", &reason, 4000)?);
        }
    }
    // A date that starts a legal clock may be corrected, never removed; every change
    // of one is in the ledger with both values (times only, no content).
    let mut audit = entry(
        meta,
        &actor(who),
        "assurance.incident_changed",
        &format!("incident:{id}"),
        LedgerOutcome::Success,
    )
    .detail("change", name);
    for ((label, old), (_, new)) in before.iter().zip(clock_dates(&incident)) {
        if old.is_some() && new.is_none() {
            return Err(invalid(format!(
                "{label} was recorded and starts or bears on a legal clock: correct it, but it cannot be removed."
            )));
        }
        if *old != new {
            audit = audit.detail(
                format!("{} changed", label.to_lowercase()),
                format!(
                    "{} -> {}",
                    old.map_or("none".into(), |t| t.to_string()),
                    new.map_or("none".into(), |t| t.to_string())
                ),
            );
        }
    }
    validated(&incident, now)?;
    let sealed = seal(state, id, &incident)?;
    state
        .audited(audit, async {
            // The version moves forward even when the clock has not (two changes in one ms).
            let next = now.max(seen_updated_ms.saturating_add(1));
            if state
                .db
                .update_incident(id, &sealed, incident.closed_ms, seen_updated_ms, next)
                .await?
            {
                Ok(())
            } else {
                Err(stale())
            }
        })
        .await
}
