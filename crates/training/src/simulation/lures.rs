//! The built-in lures: telehealth-shaped, because staff of a telehealth practice meet
//! fake consult links, fake sign-in resets, fake shared records and fake Medicare/myGov
//! messages, not parcel-delivery scams. Each lure lists the signs a careful reader could
//! have spotted; the disclosure page shows them.

use serde::Serialize;

use crate::lessons::Block;

/// The kind of pretext a lure uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LureKind {
    /// A "temporary" or "new" video consult link.
    FakeConsultLink,
    /// A demand to reset or re-register the second sign-in step.
    FakeMfaReset,
    /// A patient record "shared" through an outside site.
    FakeSharedRecord,
    /// A Medicare or myGov message with a sign-in link.
    FakeMedicareMyGov,
}

/// A lure template. `subject`, `body` and `landing` are plain text with `{{name}}` and
/// `{{link}}` placeholders; see [`super::validate_template`] and [`super::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lure {
    /// Stable identifier.
    pub id: &'static str,
    /// The pretext.
    pub kind: LureKind,
    /// What the security officer sees when choosing a lure.
    pub name: &'static str,
    /// The message subject.
    pub subject: &'static str,
    /// The message text; contains `{{link}}`.
    pub body: &'static str,
    /// The text of the landing page that the link opens (its form fields are the
    /// server's; nothing typed in them is kept).
    pub landing: &'static str,
    /// The signs a careful reader could have spotted, shown on the disclosure page.
    pub signs: &'static [&'static str],
}

static LURES: [Lure; 4] = [
    Lure {
        id: "fake-consult-link",
        kind: LureKind::FakeConsultLink,
        name: "Fake consult link",
        subject: "Your patient is waiting: join the video consult now",
        body: "Hi {{name}},\n\nYour patient is in the waiting room, but the usual consult link \
         is not working today. Please join using this temporary link:\n\n{{link}}\n\nIf you do not \
         join within 10 minutes the appointment will be cancelled.\n\nTelewarden Support",
        landing: "Sign in to join your consult. Enter your work e-mail and password to continue.",
        signs: &[
            "Telewarden puts consult links in the app; it never e-mails a “temporary link”.",
            "The deadline (“within 10 minutes”) is there to rush you.",
            "It was signed “Telewarden Support”, not by anyone at the practice.",
        ],
    },
    Lure {
        id: "fake-mfa-reset",
        kind: LureKind::FakeMfaReset,
        name: "Fake sign-in security reset",
        subject: "Action required: re-register your sign-in within 24 hours",
        body: "Hi {{name}},\n\nWe noticed unusual sign-in activity on your Telewarden account. \
         To keep your access, re-register your second sign-in step within 24 \
         hours:\n\n{{link}}\n\nIf we text you a code, enter it on the page.\n\nTelewarden Security \
         Team",
        landing: "Re-register your sign-in. Enter your e-mail, your password and the code we \
         just sent you.",
        signs: &[
            "Telewarden never asks for codes, and never asks you to type one into a page it \
             links to.",
            "Your passkey works only on the real Telewarden address; a page that asks for a \
             password and a code instead is a warning.",
            "The threat of losing access within 24 hours is there to rush you.",
        ],
    },
    Lure {
        id: "fake-shared-record",
        kind: LureKind::FakeSharedRecord,
        name: "Fake shared patient record",
        subject: "{{name}}, a patient record has been shared with you",
        body: "Dr A. Morgan has shared a referral and pathology results with you through \
         SecureShare.\n\nView the documents: {{link}}\n\nThe link expires in 48 hours.",
        landing: "Sign in with your work e-mail account to view the shared documents.",
        signs: &[
            "Patient records are shared inside Telewarden, not through an outside file-sharing \
             site.",
            "You were not expecting documents from this sender.",
            "A sign-in page for a file-sharing site asked for your work password.",
        ],
    },
    Lure {
        id: "fake-medicare-mygov",
        kind: LureKind::FakeMedicareMyGov,
        name: "Fake Medicare / myGov message",
        subject: "myGov: new message about a Medicare claim",
        body: "myGov: Hi {{name}}, there is a new message about a Medicare claim for your \
         practice. Sign in to read it before it expires: {{link}}",
        landing: "myGov sign in. Enter your username or e-mail and your password.",
        signs: &[
            "myGov and Medicare do not send links to sign in; open the app or type my.gov.au \
             yourself.",
            "The link's address was not my.gov.au.",
            "A message that “expires” is there to rush you.",
        ],
    },
];

/// The built-in lures.
pub fn lures() -> &'static [Lure] {
    &LURES
}

/// The built-in lure with this id.
pub fn lure(id: &str) -> Option<&'static Lure> {
    LURES.iter().find(|l| l.id == id)
}

static DISCLOSURE: [Block; 3] = [
    Block::Paragraph(
        "This was a practice phishing message, sent by your practice's security officer so \
         that everyone can practise spotting and reporting messages like it.",
    ),
    Block::Paragraph(
        "Nothing you typed on the previous page was kept or sent anywhere. Only the fact that \
         the page was used is recorded, and it is not used for discipline.",
    ),
    Block::Paragraph(
        "Next time, use the “Report suspicious message” button instead: reporting is the most \
         useful thing you can do, even after a click. The short lesson “Phishing messages and \
         pretexting calls” shows more signs to look for.",
    ),
];

/// The page shown after every landing page (and after a submission): what happened,
/// that nothing typed was kept, and what to do next time. Show the lure's `signs` with
/// it. Always shown, because a simulation that leaves people unsure whether they were
/// really attacked does harm.
pub fn disclosure() -> &'static [Block] {
    &DISCLOSURE
}
