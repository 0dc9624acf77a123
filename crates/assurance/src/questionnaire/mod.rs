//! The guided assessment: questions only a person can answer.
//!
//! Telewarden measures its own controls continuously, so this covers what the server
//! cannot see: practice workstations (the Essential Eight controls that need an
//! attestation), the host it runs on, physical security, vendors, policies, people and
//! off-site backups. Each question names the risk scenarios it informs, so a "No" or
//! "Don't know" raises that scenario's likelihood in the register instead of only
//! lowering a percentage.
//!
//! Completeness and risk are kept apart (the SRA Tool's two "scores" confuse users):
//! [`progress`] says how much has been answered, [`gaps_by_scenario`] what the answers
//! mean for risk.

mod questions;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::AssuranceError;

/// The risk scenario ids of the register that questions can inform.
pub const SCENARIOS: [&str; 10] = [
    "phishing",
    "credential_stuffing",
    "ransomware",
    "lost_device",
    "insider_snooping",
    "vendor_outage",
    "session_hijack",
    "unpatched_software",
    "backup_failure",
    "physical_intrusion",
];

/// The safeguard groups, in display order.
const GROUPS: [&str; 7] = [
    "Workstations",
    "Server host",
    "Physical security",
    "Vendors",
    "Policies and plans",
    "Workforce",
    "Contingency",
];

/// An answer to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    /// In place for some systems or people but not all.
    Partly,
    No,
    /// Counts as answered (someone looked and could not tell) but as a gap for risk:
    /// a control nobody can vouch for cannot be relied on.
    DontKnow,
    /// The control does not apply (e.g. no Microsoft Office); excluded from scores.
    NotApplicable,
}

impl Answer {
    /// Every answer, in the order they are offered.
    pub const ALL: [Answer; 5] = [
        Answer::Yes,
        Answer::Partly,
        Answer::No,
        Answer::DontKnow,
        Answer::NotApplicable,
    ];

    /// Parses the stored or submitted form (`yes`, `partly`, `no`, `dont_know`,
    /// `not_applicable`); case, spaces, hyphens and apostrophes are forgiven
    /// ("Don't know", "not-applicable"), and `n/a` is accepted.
    pub fn parse(text: &str) -> Result<Answer, AssuranceError> {
        let normal: String = text
            .trim()
            .chars()
            .filter(|c| *c != '\'' && *c != '\u{2019}')
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        match normal.as_str() {
            "yes" => Ok(Answer::Yes),
            "partly" => Ok(Answer::Partly),
            "no" => Ok(Answer::No),
            "dont_know" => Ok(Answer::DontKnow),
            "not_applicable" | "n/a" => Ok(Answer::NotApplicable),
            _ => Err(AssuranceError::Invalid(format!(
                "unknown answer {text:?}: expected yes, partly, no, dont_know or not_applicable"
            ))),
        }
    }

    /// The stored form, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::Partly => "partly",
            Answer::No => "no",
            Answer::DontKnow => "dont_know",
            Answer::NotApplicable => "not_applicable",
        }
    }

    /// The label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Answer::Yes => "Yes",
            Answer::Partly => "Partly",
            Answer::No => "No",
            Answer::DontKnow => "Don't know",
            Answer::NotApplicable => "Not applicable",
        }
    }

    /// How much of the control is in place, from 0.0 to 1.0; `None` for
    /// [`Answer::NotApplicable`], which must not pull an average down or up.
    pub fn score(self) -> Option<f64> {
        match self {
            Answer::Yes => Some(1.0),
            Answer::Partly => Some(0.5),
            Answer::No | Answer::DontKnow => Some(0.0),
            Answer::NotApplicable => None,
        }
    }

    /// Whether the answer raises the likelihood of the question's scenarios.
    pub fn is_gap(self) -> bool {
        matches!(self, Answer::No | Answer::DontKnow)
    }
}

/// One question of the assessment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Question {
    /// Stable snake_case id; answers are stored under it, so never rename one.
    pub id: &'static str,
    /// The safeguard group (see [`groups`]).
    pub group: &'static str,
    /// The question, in plain language.
    pub text: &'static str,
    /// Why it matters.
    pub help: &'static str,
    /// HIPAA, Essential Eight and RACGP paragraphs the answer is evidence for.
    pub references: &'static [&'static str],
    /// Ids from [`SCENARIOS`] whose likelihood a gap raises.
    pub scenarios: &'static [&'static str],
    /// The answers offered; "Not applicable" only where a practice can lack the thing.
    pub options: &'static [Answer],
}

impl Question {
    /// Whether `answer` is one of this question's options.
    pub fn accepts(&self, answer: Answer) -> bool {
        self.options.contains(&answer)
    }
}

/// All questions, grouped and in display order.
pub fn questions() -> &'static [Question] {
    &questions::QUESTIONS
}

/// The question with this id.
pub fn question(id: &str) -> Result<&'static Question, AssuranceError> {
    questions()
        .iter()
        .find(|q| q.id == id)
        .ok_or_else(|| AssuranceError::UnknownQuestion(id.to_owned()))
}

/// Parses a submitted answer to question `id` and checks that it is one of the
/// question's options, so "not applicable" cannot be used to skip a control that every
/// practice has.
pub fn parse_answer(id: &str, text: &str) -> Result<(&'static Question, Answer), AssuranceError> {
    let question = question(id)?;
    let answer = Answer::parse(text)?;
    if !question.accepts(answer) {
        return Err(AssuranceError::Invalid(format!(
            "question `{id}` cannot be answered \"{}\"",
            answer.label()
        )));
    }
    Ok((question, answer))
}

/// The safeguard groups, in display order.
pub fn groups() -> Vec<&'static str> {
    GROUPS.to_vec()
}

/// How much of the questionnaire has been answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Questions with any answer, "Don't know" and "Not applicable" included.
    pub answered: usize,
    pub total: usize,
    /// `answered / total`, rounded down so 100 means complete.
    pub percent: u8,
}

/// Progress over the current questions; answers to unknown ids (a question since
/// removed) are ignored.
pub fn progress(answers: &BTreeMap<String, Answer>) -> Progress {
    let total = questions().len();
    let answered = questions()
        .iter()
        .filter(|q| answers.contains_key(q.id))
        .count();
    let percent = (answered * 100).checked_div(total).unwrap_or(100);
    Progress {
        answered,
        total,
        percent: u8::try_from(percent).unwrap_or(100),
    }
}

/// For every scenario in [`SCENARIOS`] (zero included), how many answered questions
/// informing it are gaps ("No" or "Don't know"). Unanswered questions do not count:
/// [`progress`] shows those.
pub fn gaps_by_scenario(answers: &BTreeMap<String, Answer>) -> BTreeMap<&'static str, usize> {
    let mut gaps: BTreeMap<&'static str, usize> = SCENARIOS.iter().map(|s| (*s, 0)).collect();
    let gap_questions = questions()
        .iter()
        .filter(|q| answers.get(q.id).is_some_and(|a| a.is_gap()));
    for question in gap_questions {
        for scenario in question.scenarios {
            *gaps.entry(*scenario).or_default() += 1;
        }
    }
    gaps
}
