//! Scoring a quiz against the lesson text the learner actually read.
//!
//! Answers are checked against the version the learner opened: if the lesson changed in
//! between, the questions may have changed too, so the attempt is refused rather than
//! scored against questions the learner never saw.

use serde::Serialize;

use crate::TrainingError;
use crate::lessons::Lesson;

/// The pass mark, in percent. With five questions one slip still passes (4/5 = 80%);
/// with three or four, every answer must be right.
pub const PASS_PERCENT: u32 = 80;

/// The outcome of one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feedback {
    /// Index of the question in the quiz (from 0).
    pub question: usize,
    /// The option chosen.
    pub chosen: usize,
    /// The correct option.
    pub correct_option: usize,
    /// Whether the chosen option is the correct one.
    pub is_correct: bool,
    /// Why the correct option is right: shown whatever was chosen, because the point
    /// is learning, not the mark.
    pub explanation: &'static str,
}

/// The outcome of a quiz attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuizResult {
    /// The lesson.
    pub lesson_id: &'static str,
    /// The version that was answered (the current one).
    pub version: u32,
    /// Questions answered correctly.
    pub correct: usize,
    /// Questions in the quiz.
    pub total: usize,
    /// `correct / total` in whole percent, rounded down (for display; `passed` is exact).
    pub percent: u32,
    /// At least [`PASS_PERCENT`], computed without rounding.
    pub passed: bool,
    /// One entry per question, in order.
    pub feedback: Vec<Feedback>,
}

/// Scores `answers` (one option index per question, in order) for `lesson` as opened at
/// `version`.
///
/// Errors: [`TrainingError::VersionChanged`] if `version` is not the current one,
/// [`TrainingError::AnswerCount`] unless there is exactly one answer per question, and
/// [`TrainingError::AnswerOutOfRange`] for an option the question does not have.
pub fn score(
    lesson: &Lesson,
    version: u32,
    answers: &[usize],
) -> Result<QuizResult, TrainingError> {
    if version != lesson.version {
        return Err(TrainingError::VersionChanged {
            opened: version,
            current: lesson.version,
        });
    }
    if answers.len() != lesson.quiz.len() {
        return Err(TrainingError::AnswerCount {
            expected: lesson.quiz.len(),
            got: answers.len(),
        });
    }
    let mut feedback = Vec::with_capacity(answers.len());
    for (i, (q, &chosen)) in lesson.quiz.iter().zip(answers).enumerate() {
        if chosen >= q.options.len() {
            return Err(TrainingError::AnswerOutOfRange {
                question: i + 1,
                chosen,
                options: q.options.len(),
            });
        }
        feedback.push(Feedback {
            question: i,
            chosen,
            correct_option: q.correct,
            is_correct: chosen == q.correct,
            explanation: q.explanation,
        });
    }
    let total = feedback.len();
    let correct = feedback.iter().filter(|f| f.is_correct).count();
    // u64 arithmetic: a quiz has at most a handful of questions, so no overflow.
    let (c, t) = (correct as u64, total as u64);
    let percent = (c * 100).checked_div(t).map_or(0, |p| p as u32);
    let passed = t > 0 && c * 100 >= u64::from(PASS_PERCENT) * t;
    Ok(QuizResult {
        lesson_id: lesson.id,
        version: lesson.version,
        correct,
        total,
        percent,
        passed,
        feedback,
    })
}
