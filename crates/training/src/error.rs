//! The one error type of this crate.
//!
//! Messages are written for the person who sees them: a staff member whose quiz could not
//! be scored, or the security officer whose simulated lure was refused. Each says what is
//! wrong and, where it helps, what to do next.

/// Why a lesson could not be found, a quiz could not be scored, or a lure was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainingError {
    /// No lesson has this id (a typo, or a lesson that was retired).
    #[error("there is no lesson called \"{id}\"")]
    UnknownLesson {
        /// The id asked for.
        id: String,
    },
    /// The answers were given against an older (or newer) text of the lesson.
    #[error(
        "the lesson changed since you opened it (you had version {opened}, it is now version \
         {current}); please read it again and retake the quiz"
    )]
    VersionChanged {
        /// The version the learner opened.
        opened: u32,
        /// The version the lesson is at now.
        current: u32,
    },
    /// Not one answer per question.
    #[error("the quiz has {expected} questions but {got} answers were given")]
    AnswerCount {
        /// How many questions the quiz has.
        expected: usize,
        /// How many answers arrived.
        got: usize,
    },
    /// An answer names an option the question does not have.
    #[error("question {question} has {options} options, but option {chosen} was chosen")]
    AnswerOutOfRange {
        /// The question, counted from 1 as the learner sees it.
        question: usize,
        /// The option chosen, counted from 0 as sent by the form.
        chosen: usize,
        /// How many options the question has.
        options: usize,
    },
    /// A lure is about pay, jobs, gifts or refunds: simulations must not play on those.
    #[error(
        "the {field} mentions \"{word}\": simulated lures must not be about pay, bonuses, jobs, \
         gifts or tax refunds, because staff rightly feel tricked and stop trusting the programme"
    )]
    ForbiddenTopic {
        /// `subject`, `body` or `landing`.
        field: &'static str,
        /// The word or phrase found, as normalised (lower case).
        word: String,
    },
    /// The e-mail body has no `{{link}}`, so a click could never be recorded.
    #[error("the body must contain the {{{{link}}}} placeholder where the tracked link goes")]
    MissingLink,
    /// A placeholder this crate does not fill in.
    #[error(
        "the {field} uses the placeholder {{{{{name}}}}}, which is unknown; use {{{{name}}}} \
         or {{{{link}}}}"
    )]
    UnknownPlaceholder {
        /// `subject`, `body` or `landing`.
        field: &'static str,
        /// The text between the braces.
        name: String,
    },
    /// `{{` without a closing `}}`.
    #[error("the {field} has a \"{{{{\" that is never closed with \"}}}}\"")]
    UnclosedPlaceholder {
        /// `subject`, `body` or `landing`.
        field: &'static str,
    },
    /// A required text is empty or only spaces.
    #[error("the {field} is empty")]
    Empty {
        /// `subject`, `body` or `landing`.
        field: &'static str,
    },
    /// A text longer than the limit.
    #[error("the {field} is {got} characters long; the limit is {max}")]
    TooLong {
        /// `subject`, `body` or `landing`.
        field: &'static str,
        /// The limit in characters.
        max: usize,
        /// The length found in characters.
        got: usize,
    },
    /// A line break in the subject would let the text add mail headers.
    #[error(
        "the {field} holds a web or mail address ({found}): a simulation's only link is {{{{link}}}}, so it can never send people elsewhere"
    )]
    OutsideLink {
        /// Which part of the template.
        field: &'static str,
        /// The address-like text found.
        found: String,
    },
    #[error("the subject must be a single line")]
    MultilineSubject,
}
