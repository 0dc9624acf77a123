//! The lessons and the policy text, written for Telewarden and its people.
//!
//! Lessons are short on purpose: in the UC San Diego Health trial more than half of the
//! embedded-training sessions were closed within ten seconds, so each lesson fits in three
//! minutes of reading (about 450 words at 150 words a minute) and ends with a short quiz.
//! Staff quizzes have five questions so that one slip still passes at 80%; patient quizzes
//! have three and are never required.
//!
//! Content is static and versioned. Whenever the text of a lesson (title, body or quiz)
//! changes, bump its `version`: quiz answers given against an older text are refused, and
//! the records show which text each person passed. A test pins each lesson's
//! [`Lesson::content_digest`] to its version, so a change without a bump fails the build.

mod patient_account;
mod patient_contact;
mod policy;
mod staff_breach;
mod staff_data;
mod staff_phishing;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::TrainingError;

pub use policy::{Policy, policy};

/// Who a lesson is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Clinicians, admin staff and the security officer: required, then yearly.
    Staff,
    /// Patients: offered at helpful moments, never required.
    Patient,
}

/// One block of lesson text: "markdown-lite", so the server can render it as HTML, plain
/// text or speech without parsing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "text")]
pub enum Block {
    /// A paragraph of plain text.
    Paragraph(&'static str),
    /// A bulleted list; each item is plain text.
    Bullets(&'static [&'static str]),
}

impl Block {
    /// Words in the block, counted as whitespace-separated runs.
    pub fn word_count(&self) -> usize {
        match self {
            Block::Paragraph(text) => text.split_whitespace().count(),
            Block::Bullets(items) => items.iter().map(|i| i.split_whitespace().count()).sum(),
        }
    }
}

/// A multiple-choice question with exactly one correct option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuizQuestion {
    /// The question as shown.
    pub prompt: &'static str,
    /// The options, shown in this order (their index is the answer sent back).
    pub options: &'static [&'static str],
    /// Index into `options` of the one correct option. Do not send it to the browser
    /// before the quiz is scored.
    pub correct: usize,
    /// Why the correct option is right, shown after scoring whatever was chosen.
    pub explanation: &'static str,
}

/// A short lesson with its quiz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lesson {
    /// Stable identifier, used in URLs and completion records.
    pub id: &'static str,
    /// Bumped whenever the title, body or quiz changes.
    pub version: u32,
    /// Staff (required) or patients (offered).
    pub audience: Audience,
    /// The title as shown.
    pub title: &'static str,
    /// Estimated reading time, shown before the lesson starts.
    pub minutes: u8,
    /// The text.
    pub body: &'static [Block],
    /// The quiz, 3 to 5 questions.
    pub quiz: &'static [QuizQuestion],
}

impl Lesson {
    /// Words in the body (the quiz is not counted: it is read while answering).
    pub fn word_count(&self) -> usize {
        self.body.iter().map(Block::word_count).sum()
    }

    /// SHA-256 (hex) over everything a learner sees: title, body and quiz. Stored with a
    /// completion, it proves which text was passed; the tests use it to catch a content
    /// change that forgot to bump `version`.
    pub fn content_digest(&self) -> String {
        let mut h = Sha256::new();
        field(&mut h, self.title);
        blocks(&mut h, self.body);
        for q in self.quiz {
            field(&mut h, q.prompt);
            for o in q.options {
                field(&mut h, o);
            }
            h.update((q.correct as u64).to_be_bytes());
            field(&mut h, q.explanation);
        }
        hex::encode(h.finalize())
    }
}

/// Length-prefixed, so that moving text from one field to the next changes the digest.
pub(crate) fn field(h: &mut Sha256, text: &str) {
    h.update((text.len() as u64).to_be_bytes());
    h.update(text.as_bytes());
}

pub(crate) fn blocks(h: &mut Sha256, body: &[Block]) {
    for b in body {
        match b {
            Block::Paragraph(text) => {
                h.update([0u8]);
                field(h, text);
            }
            Block::Bullets(items) => {
                h.update([1u8]);
                h.update((items.len() as u64).to_be_bytes());
                for i in *items {
                    field(h, i);
                }
            }
        }
    }
}

static LESSONS: [Lesson; 9] = [
    staff_phishing::PHISHING,
    staff_phishing::MFA_CODES,
    staff_data::PATIENT_DATA,
    staff_data::REPORTING,
    staff_breach::BREACH_DUTIES,
    patient_contact::HOW_WE_CONTACT,
    patient_contact::CHECK_LINK,
    patient_account::ACCOUNT,
    patient_account::AFTER_BREACH,
];

/// Every lesson, staff first, in the order they are meant to be taken.
pub fn lessons() -> &'static [Lesson] {
    &LESSONS
}

/// The lesson with this id.
pub fn lesson(id: &str) -> Result<&'static Lesson, TrainingError> {
    LESSONS
        .iter()
        .find(|l| l.id == id)
        .ok_or_else(|| TrainingError::UnknownLesson { id: id.to_owned() })
}

/// The lessons every staff member must pass before first access to patient data, and then
/// yearly.
pub fn staff_set() -> Vec<&'static Lesson> {
    audience(Audience::Staff)
}

/// The lessons offered to patients.
pub fn patient_set() -> Vec<&'static Lesson> {
    audience(Audience::Patient)
}

fn audience(who: Audience) -> Vec<&'static Lesson> {
    LESSONS.iter().filter(|l| l.audience == who).collect()
}
