//! The reports a security officer or auditor asks for, built from the live state and
//! always available: each says how complete the assessment behind it is instead of
//! being locked until it is. And the evidence pack: every report as HTML and PDF plus
//! the data behind them, in one archive whose contents are hashed and whose own hash
//! is written to the ledger before it is handed out.

use std::collections::BTreeMap;

use assurance::catalogue::{CHECKS, CheckId};
use assurance::evaluate::Outcome;
use assurance::questionnaire::{self, Answer};
use assurance::register::{SCENARIOS, level_name};
use ledger::Outcome as LedgerOutcome;
use proto::ErrorCode;
use reports::{Block, Document, Section, StatusState};
use store::assurance::{ResultRow, RiskRow};

use crate::admin::require;
use crate::assurance::{actor, incidents, register, reviews};
use crate::audit::entry;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::state::AppState;

/// The reports there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    RiskAssessment,
    EssentialEight,
    HipaaChecklist,
    IncidentLog,
}

pub const KINDS: [Kind; 4] = [
    Kind::RiskAssessment,
    Kind::EssentialEight,
    Kind::HipaaChecklist,
    Kind::IncidentLog,
];

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::RiskAssessment => "risk-assessment",
            Kind::EssentialEight => "essential-eight",
            Kind::HipaaChecklist => "hipaa-checklist",
            Kind::IncidentLog => "incident-log",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Kind::RiskAssessment => "Security risk assessment",
            Kind::EssentialEight => "Essential Eight statement",
            Kind::HipaaChecklist => "HIPAA Security Rule safeguard checklist",
            Kind::IncidentLog => "Incident and breach log",
        }
    }
    pub fn parse(key: &str) -> AppResult<Self> {
        KINDS.into_iter().find(|k| k.key() == key).ok_or_else(|| {
            AppError::client(ErrorCode::NotFound, "There is no report of that name.")
        })
    }
}

/// Everything the reports are built from, read once.
pub(super) struct Snapshot {
    pub(super) practice: String,
    pub(super) zone: breach::TimeZone,
    pub(super) now_ms: i64,
    pub(super) results: Vec<ResultRow>,
    pub(super) answers: BTreeMap<String, store::assurance::AnswerRow>,
    pub(super) risks: Vec<RiskRow>,
    pub(super) reviews: Vec<store::assurance::ReviewRow>,
    pub(super) incidents: Vec<incidents::Opened>,
}

/// Everything the reports read; the incidents (decrypted) only when `with_incidents`.
pub(super) async fn snapshot(state: &AppState, with_incidents: bool) -> AppResult<Snapshot> {
    Ok(Snapshot {
        practice: state
            .db
            .practice()
            .await?
            .map(|p| p.name)
            .unwrap_or_default(),
        zone: incidents::zone(state).await?,
        now_ms: state.clock.now_ms(),
        results: state.db.latest_check_results().await?,
        answers: state
            .db
            .answers()
            .await?
            .into_iter()
            .map(|a| (a.question_id.clone(), a))
            .collect(),
        risks: register::risks(state).await?,
        reviews: reviews::reviews(state).await?,
        incidents: if with_incidents {
            incidents::all(state).await?
        } else {
            Vec::new()
        },
    })
}

fn outcome_of(s: &Snapshot, id: CheckId) -> (Outcome, String, i64) {
    s.results
        .iter()
        .find(|r| r.check_id == id.key())
        .and_then(|r| {
            Some((
                Outcome::parse(&r.outcome)?,
                r.summary.clone(),
                r.observed_ms,
            ))
        })
        .unwrap_or((Outcome::CannotRun, "Not run yet.".into(), 0))
}

fn state_of(o: Outcome) -> StatusState {
    match o {
        Outcome::Pass => StatusState::Pass,
        Outcome::Fail => StatusState::Fail,
        Outcome::CannotRun => StatusState::Unknown,
    }
}

fn answer_of(s: &Snapshot, id: &str) -> Option<Answer> {
    s.answers
        .get(id)
        .and_then(|a| Answer::parse(a.answer.as_deref()?).ok())
}

fn answer_state(a: Option<Answer>) -> StatusState {
    match a {
        Some(Answer::Yes) => StatusState::Pass,
        Some(Answer::NotApplicable) => StatusState::Info,
        Some(Answer::No | Answer::Partly) => StatusState::Fail,
        Some(Answer::DontKnow) | None => StatusState::Unknown,
    }
}

/// Percentage complete: checks that could run, questions answered, risks with a
/// treatment decided, weighted equally.
fn completeness(s: &Snapshot) -> u8 {
    let ran = CHECKS
        .iter()
        .filter(|c| outcome_of(s, c.id).0 != Outcome::CannotRun)
        .count() as f64
        / CHECKS.len() as f64;
    let answered = questionnaire::questions()
        .iter()
        .filter(|q| answer_of(s, q.id).is_some())
        .count() as f64
        / questionnaire::questions().len().max(1) as f64;
    let treated = s.risks.iter().filter(|r| r.treatment.is_some()).count() as f64
        / s.risks.len().max(1) as f64;
    ((ran + answered + treated) / 3.0 * 100.0).floor() as u8
}

fn day(s: &Snapshot, ms: i64) -> String {
    if ms == 0 {
        return "—".into();
    }
    breach::local_date_text(ms, &s.zone)
}

fn document(s: &Snapshot, kind: Kind, subtitle: &str, sections: Vec<Section>) -> Document {
    Document {
        title: kind.title().to_owned(),
        subtitle: Some(format!(
            "{} — {subtitle}",
            if s.practice.is_empty() {
                "The practice"
            } else {
                &s.practice
            }
        )),
        generated: format!(
            "Generated by Telewarden on {}",
            breach::local_datetime_text(s.now_ms, &s.zone)
        ),
        completeness_percent: Some(completeness(s)),
        sections,
    }
}

fn check_blocks(
    s: &Snapshot,
    filter: impl Fn(&assurance::catalogue::CheckSpec) -> bool,
) -> Vec<Block> {
    CHECKS
        .iter()
        .filter(|c| filter(c))
        .map(|c| {
            let (o, summary, at) = outcome_of(s, c.id);
            Block::Status {
                label: c.title.to_owned(),
                state: state_of(o),
                detail: format!(
                    "{summary} (observed {}; {})",
                    day(s, at),
                    c.hipaa.join(", ")
                ),
            }
        })
        .collect()
}

fn risk_table(s: &Snapshot) -> Block {
    Block::Table {
        columns: [
            "Scenario",
            "Likelihood",
            "Impact",
            "Risk",
            "Treatment",
            "Status",
            "Owner / due",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .risks
            .iter()
            .map(|r| {
                let title = SCENARIOS
                    .iter()
                    .find(|x| x.id == r.scenario_id)
                    .map_or(r.scenario_id.as_str(), |x| x.title);
                vec![
                    title.to_owned(),
                    level_name(u8::try_from(r.likelihood).unwrap_or(3)).to_owned(),
                    level_name(u8::try_from(r.impact).unwrap_or(3)).to_owned(),
                    level_name(u8::try_from(r.level).unwrap_or(3)).to_owned(),
                    r.treatment.clone().unwrap_or_else(|| "not decided".into()),
                    r.status.clone(),
                    format!(
                        "{} {}",
                        r.owner.clone().unwrap_or_default(),
                        r.due_ms.map(|d| day(s, d)).unwrap_or_default()
                    )
                    .trim()
                    .to_owned(),
                ]
            })
            .collect(),
    }
}

fn risk_assessment(s: &Snapshot) -> Document {
    let mut sections = vec![
        Section {
            heading: "Scope and method".into(),
            blocks: vec![
                Block::Paragraph("Scope: the Telewarden server of the practice — its accounts, patient records, consults, audit ledger, keys and backups — and the workstations, premises, vendors and policies covered by the guided questionnaire.".into()),
                Block::Paragraph("Method: NIST SP 800-30 Rev. 1. Threat scenarios are rated for likelihood and impact on five levels and combined into one risk level (Table I-2). The server checks what it can observe about itself continuously; people answer only what it cannot see. A failing check or a \"no\"/\"don't know\" answer raises the likelihood of the scenarios it informs.".into()),
            ],
        },
        Section { heading: "Automated checks".into(), blocks: check_blocks(s, |_| true) },
    ];
    for group in questionnaire::groups() {
        let rows = questionnaire::questions()
            .iter()
            .filter(|q| q.group == group)
            .map(|q| {
                let a = s.answers.get(q.id);
                vec![
                    q.text.to_owned(),
                    answer_of(s, q.id)
                        .map_or("not answered", |a| a.label())
                        .to_owned(),
                    a.map(|a| a.note.clone()).unwrap_or_default(),
                ]
            })
            .collect();
        sections.push(Section {
            heading: format!("Questionnaire: {group}"),
            blocks: vec![Block::Table {
                columns: vec!["Question".into(), "Answer".into(), "Note".into()],
                rows,
            }],
        });
    }
    sections.push(Section {
        heading: "Risk register".into(),
        blocks: vec![risk_table(s)],
    });
    sections.push(Section {
        heading: "Threats, assets and vulnerabilities".into(),
        blocks: vec![Block::Table {
            columns: vec![
                "Scenario".into(),
                "Threat event".into(),
                "Assets".into(),
                "Vulnerabilities".into(),
            ],
            rows: SCENARIOS
                .iter()
                .map(|x| {
                    vec![
                        x.title.into(),
                        x.event.into(),
                        x.assets.join(", "),
                        x.vulnerabilities.join(", "),
                    ]
                })
                .collect(),
        }],
    });
    sections.push(Section {
        heading: "Reviews".into(),
        blocks: vec![Block::Table {
            columns: vec![
                "Kind".into(),
                "Reason".into(),
                "Due".into(),
                "Completed".into(),
                "Conclusions".into(),
            ],
            rows: s
                .reviews
                .iter()
                .map(|r| {
                    vec![
                        r.kind.clone(),
                        r.reason.clone(),
                        day(s, r.due_ms),
                        r.completed_ms.map_or_else(|| "open".into(), |c| day(s, c)),
                        r.summary.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        }],
    });
    document(
        s,
        Kind::RiskAssessment,
        "NIST SP 800-30 risk assessment",
        sections,
    )
}

/// Essential Eight strategies and what gives evidence for each.
const STRATEGIES: [(&str, &[CheckId]); 8] = [
    ("Patch applications", &[CheckId::DependencyAdvisories]),
    ("Patch operating systems", &[]),
    (
        "Multi-factor authentication",
        &[CheckId::StaffMfa, CheckId::AdminPhishingResistantMfa],
    ),
    (
        "Restrict administrative privileges",
        &[CheckId::StaleAdminAccounts],
    ),
    ("Application control", &[]),
    ("Restrict Microsoft Office macros", &[]),
    ("User application hardening", &[]),
    (
        "Regular backups",
        &[CheckId::BackupAge, CheckId::RestoreTested],
    ),
];

fn essential_eight(s: &Snapshot) -> Document {
    let sections = STRATEGIES
        .iter()
        .map(|(name, checks)| {
            let mut blocks = check_blocks(s, |c| checks.contains(&c.id));
            let word = name.split_whitespace().last().unwrap_or(name);
            for q in questionnaire::questions().iter().filter(|q| {
                q.references.iter().any(|r| {
                    r.starts_with("Essential Eight") && (r.contains(name) || r.contains(word))
                })
            }) {
                blocks.push(Block::Status {
                    label: q.text.to_owned(),
                    state: answer_state(answer_of(s, q.id)),
                    detail: format!(
                        "Attested: {}",
                        answer_of(s, q.id).map_or("not answered", |a| a.label())
                    ),
                });
            }
            if blocks.is_empty() {
                blocks.push(Block::Paragraph("No evidence recorded yet.".into()));
            }
            Section {
                heading: (*name).to_owned(),
                blocks,
            }
        })
        .collect();
    document(
        s,
        Kind::EssentialEight,
        "ACSC Essential Eight (November 2023), as measured and attested",
        sections,
    )
}

/// HIPAA Security Rule standards, grouped, with the paragraph prefix that finds their
/// checks and questions.
const HIPAA: [(&str, &str); 3] = [
    ("Administrative safeguards (§164.308)", "§164.308"),
    ("Physical safeguards (§164.310)", "§164.310"),
    ("Technical safeguards (§164.312)", "§164.312"),
];

fn hipaa(s: &Snapshot) -> Document {
    let sections = HIPAA
        .iter()
        .map(|(heading, prefix)| {
            let mut blocks = check_blocks(s, |c| c.hipaa.iter().any(|h| h.starts_with(prefix)));
            for q in questionnaire::questions()
                .iter()
                .filter(|q| q.references.iter().any(|r| r.contains(prefix)))
            {
                blocks.push(Block::Status {
                    label: q.text.to_owned(),
                    state: answer_state(answer_of(s, q.id)),
                    detail: q
                        .references
                        .iter()
                        .filter(|r| r.contains(prefix))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
            Section {
                heading: (*heading).to_owned(),
                blocks,
            }
        })
        .collect();
    document(
        s,
        Kind::HipaaChecklist,
        "45 CFR Part 164 Subpart C",
        sections,
    )
}

fn incident_log(s: &Snapshot) -> Document {
    let mut sections = vec![Section {
        heading: "Incidents".into(),
        blocks: vec![Block::Table {
            columns: ["Opened", "Incident", "People", "Status", "Notices given"]
                .map(String::from)
                .to_vec(),
            rows: s
                .incidents
                .iter()
                .map(|o| {
                    vec![
                        day(s, o.row.opened_ms),
                        o.incident.title.clone(),
                        o.incident.affected_total.to_string(),
                        if o.row.closed_ms.is_some() {
                            "closed".into()
                        } else {
                            "open".into()
                        },
                        o.incident
                            .notifications
                            .iter()
                            .map(|n| n.duty.label())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ]
                })
                .collect(),
        }],
    }];
    for o in &s.incidents {
        let i = &o.incident;
        let mut blocks = vec![Block::Paragraph(i.description.clone())];
        if let Some(n) = &i.ndb {
            blocks.push(Block::KeyValues(vec![
                (
                    "NDB: serious harm likely".into(),
                    if n.likely_serious_harm { "yes" } else { "no" }.into(),
                ),
                (
                    "NDB: remedial action prevented it".into(),
                    if n.remedial_action_prevented_harm {
                        "yes"
                    } else {
                        "no"
                    }
                    .into(),
                ),
                ("NDB reasoning".into(), n.rationale.clone()),
            ]));
        }
        if let Some(h) = &i.hipaa {
            blocks.push(Block::KeyValues(vec![
                ("Nature and extent".into(), h.nature_and_extent.clone()),
                ("Who received it".into(), h.unauthorized_person.clone()),
                ("Acquired or viewed".into(), h.acquired_or_viewed.clone()),
                ("Mitigation".into(), h.mitigation.clone()),
                (
                    "Low probability of compromise".into(),
                    if h.low_probability_of_compromise {
                        "yes"
                    } else {
                        "no"
                    }
                    .into(),
                ),
            ]));
        }
        let not_required: Vec<String> = breach::not_required(i)
            .into_iter()
            .map(|n| {
                format!(
                    "{} — {} ({})",
                    n.duties
                        .iter()
                        .map(Duty::label)
                        .collect::<Vec<_>>()
                        .join(", "),
                    n.reason,
                    n.citation
                )
            })
            .collect();
        if !not_required.is_empty() {
            blocks.push(Block::Paragraph(
                "Not notified, with the reasoning kept:".into(),
            ));
            blocks.push(Block::List(not_required));
        }
        blocks.push(Block::Table {
            columns: ["Duty", "Due", "Done"].map(String::from).to_vec(),
            rows: breach::duties(i, &s.zone)
                .into_iter()
                .map(|d| {
                    vec![
                        d.duty.label(),
                        breach::local_datetime_text(d.due_ms, &s.zone),
                        d.done_ms.map_or_else(|| "open".into(), |t| day(s, t)),
                    ]
                })
                .collect(),
        });
        sections.push(Section {
            heading: format!("Incident: {}", i.title),
            blocks,
        });
    }
    document(
        s,
        Kind::IncidentLog,
        "every incident, including those assessed and not notified",
        sections,
    )
}

use breach::Duty;

pub(super) fn build(s: &Snapshot, kind: Kind) -> Document {
    match kind {
        Kind::RiskAssessment => risk_assessment(s),
        Kind::EssentialEight => essential_eight(s),
        Kind::HipaaChecklist => hipaa(s),
        Kind::IncidentLog => incident_log(s),
    }
}

/// One report, for the security officer.
/// Reading one is written to the ledger (the incident log holds incident content).
pub async fn report(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: Kind,
    format: &str,
) -> AppResult<Document> {
    require(who, Action::ViewSecurity, Target::Practice)?;
    let audit = entry(
        meta,
        &actor(who),
        "assurance.report_viewed",
        &format!("report:{}", kind.key()),
        LedgerOutcome::Success,
    )
    .detail("format", format.to_owned());
    state.audit(audit).await?;
    Ok(build(
        &snapshot(state, kind == Kind::IncidentLog).await?,
        kind,
    ))
}

/// How complete the assessment is now (for the dashboard).
pub async fn completeness_now(state: &AppState, who: &CurrentUser) -> AppResult<u8> {
    require(who, Action::ViewSecurity, Target::Practice)?;
    Ok(completeness(&snapshot(state, false).await?))
}

/// The PDF of a report.
pub fn pdf(doc: &Document) -> AppResult<Vec<u8>> {
    reports::pdf(doc).map_err(|e| AppError::internal(format!("report PDF: {e}")))
}
