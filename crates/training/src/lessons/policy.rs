//! The staff acceptable use and confidentiality policy, acknowledged at enrolment and on
//! every new version. Kept beside the lessons because it is versioned the same way: an
//! acknowledgement records the version and the digest of the exact text that was accepted.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Block, blocks, field};

/// A policy text that staff acknowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Stable identifier, used in acknowledgement records.
    pub id: &'static str,
    /// Bumped whenever the text changes; staff acknowledge each new version.
    pub version: u32,
    /// The title as shown.
    pub title: &'static str,
    /// The text.
    pub text: &'static [Block],
}

impl Policy {
    /// SHA-256 (hex) over the title and text: store it with an acknowledgement to show
    /// exactly what was accepted.
    pub fn content_digest(&self) -> String {
        let mut h = Sha256::new();
        field(&mut h, self.title);
        blocks(&mut h, self.text);
        hex::encode(h.finalize())
    }
}

static POLICY: Policy = Policy {
    id: "staff-acceptable-use",
    version: 1,
    title: "Acceptable use and confidentiality policy",
    text: &[
        Block::Paragraph(
            "By accepting this policy I agree that, while I work with the practice and after I \
             leave:",
        ),
        Block::Bullets(&[
            "Confidentiality: I will keep patients' information confidential, and use or share \
             it only for their care, for the work my role requires, or as the law requires.",
            "Need to know: I will open only the records my work needs. I understand that every \
             access is recorded and that patients can see who opened their record.",
            "My account: I will sign in only as myself. I will not share my account, passkeys, \
             codes or recovery codes, and I will not approve sign-ins I did not start.",
            "Places and devices: I will take consults in a private place, lock my screen when \
             I step away, and keep patient information off personal devices, personal e-mail, \
             messaging apps and cloud storage unless the practice has approved them.",
            "Exports and copies: I will export or print only what is needed, keep copies \
             secure, and destroy them securely when they are no longer needed.",
            "Acceptable use: I will use Telewarden and the practice's systems for my work, I \
             will not try to get around security controls, and I will not install unapproved \
             software on practice devices.",
            "Reporting: I will report suspicious messages, lost devices, mistakes and \
             suspected breaches to the security officer at once, including my own mistakes.",
            "Training: I will complete the security lessons before I first open patient \
             information, and again every year.",
            "Leaving: when I leave, I will return practice devices and keep patients' \
             information confidential.",
        ]),
        Block::Paragraph(
            "I understand that breaking this policy may lead the practice to withdraw my \
             access and to act under my employment or contract terms, and that some breaches \
             are also against the law. Practice phishing exercises are for learning and are \
             not used for discipline.",
        ),
    ],
};

/// The current staff acceptable use and confidentiality policy.
pub fn policy() -> &'static Policy {
    &POLICY
}
