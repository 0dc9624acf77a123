//! Patient lessons on keeping the account safe, and on what to do after a breach
//! (following the OAIC's advice).

use super::{Audience, Block, Lesson, QuizQuestion};

/// Passkeys, recovery codes and alerts.
pub(super) const ACCOUNT: Lesson = Lesson {
    id: "patient-account",
    version: 1,
    audience: Audience::Patient,
    title: "Keeping your account safe",
    minutes: 2,
    body: &[
        Block::Paragraph(
            "Your Telewarden account holds your appointments, messages and health record. A \
             few minutes once keeps it yours.",
        ),
        Block::Paragraph("Use a passkey:"),
        Block::Bullets(&[
            "A passkey lets you sign in with your fingerprint, face or phone screen lock \
             instead of a password. There is nothing to remember, and nothing a scammer can \
             trick you into typing on a fake page.",
            "Add a passkey on each phone or computer you use, so that losing one does not lock \
             you out.",
        ]),
        Block::Paragraph("Keep your recovery codes safe:"),
        Block::Bullets(&[
            "Recovery codes get you back in if you lose your devices. Each code works once.",
            "Print them or write them down, and keep them somewhere private at home, such as \
             with your passport. Do not keep them in e-mail or as a photo on your phone.",
            "Nobody from your practice will ever ask for them. Anyone who does is a scammer.",
        ]),
        Block::Paragraph("Keep an eye on your account:"),
        Block::Bullets(&[
            "Telewarden tells you, by e-mail and in your account, when a new device signs in \
             or a recovery code is used. If it was not you, call your practice straight away.",
            "Lock your phone and computer with a PIN, fingerprint or face, and install updates \
             when they are offered.",
        ]),
        Block::Paragraph(
            "Sharing a computer or tablet with family? Sign out when you finish. If a carer \
             helps you with your health care, ask the practice how they can help without you \
             giving them your recovery codes.",
        ),
    ],
    quiz: &[
        QuizQuestion {
            prompt: "What is a passkey?",
            options: &[
                "A password you write down",
                "A code the practice texts you",
                "A way to sign in with your fingerprint, face or screen lock",
                "A key to the clinic",
            ],
            correct: 2,
            explanation: "A passkey uses your device's lock instead of a password, and it only \
             works on your practice's real address.",
        },
        QuizQuestion {
            prompt: "Where should you keep your recovery codes?",
            options: &[
                "On paper, somewhere private at home",
                "In an e-mail to yourself",
                "In a photo on your phone",
                "With the practice's receptionist",
            ],
            correct: 0,
            explanation: "Kept on paper at home, the codes cannot be stolen along with your \
             phone or your e-mail.",
        },
        QuizQuestion {
            prompt: "Telewarden tells you that a new device signed in, but it was not you. \
             What do you do?",
            options: &[
                "Nothing",
                "Wait a week to see what happens",
                "Reply to the e-mail with your recovery codes",
                "Call your practice straight away",
            ],
            correct: 3,
            explanation: "Someone else may have got into your account. The practice can sign \
             them out and help you secure it.",
        },
    ],
};

/// The OAIC's advice for people affected by a breach.
pub(super) const AFTER_BREACH: Lesson = Lesson {
    id: "patient-after-breach",
    version: 1,
    audience: Audience::Patient,
    title: "After a data breach: what you can do",
    minutes: 2,
    body: &[
        Block::Paragraph(
            "A data breach is when personal information is lost, or seen or taken by someone \
             who should not have it. If your practice tells you your information was involved, \
             these steps, based on advice from the Office of the Australian Information \
             Commissioner (OAIC), lower the chance of harm.",
        ),
        Block::Paragraph("Straight away:"),
        Block::Bullets(&[
            "Read the notice carefully. It says what information was involved and what the \
             practice is doing. If anything is unclear, call the practice on the number you \
             already know, not a number in an unexpected message.",
            "Change your password wherever you used the same one, starting with your e-mail \
             and your bank. Use a different password for each account, or a passkey where you \
             can.",
            "If identity documents were involved, such as a driver licence, passport or \
             Medicare card, contact the agency that issued them about replacing them.",
            "If bank or card details were involved, call your bank.",
        ]),
        Block::Paragraph("In the weeks after:"),
        Block::Bullets(&[
            "Watch for scams. Criminals use news of a breach to send fake messages and calls \
             that mention it, or that offer help or refunds. Do not click links or give \
             details: contact organisations through a channel you trust.",
            "Check your bank statements and accounts for anything you do not recognise.",
            "You can get a free credit report, and ask for a ban on your credit file if you \
             think someone may use your identity.",
        ]),
        Block::Paragraph("Getting help:"),
        Block::Bullets(&[
            "IDCARE (idcare.org, 1800 595 160) gives free help to people worried about misuse \
             of their identity.",
            "Report scams to Scamwatch (scamwatch.gov.au), and cybercrime to ReportCyber \
             (cyber.gov.au).",
            "If you are unhappy with how the practice handled it, complain to the practice \
             first, then to the OAIC (oaic.gov.au).",
        ]),
        Block::Paragraph(
            "Feeling worried is normal. You do not have to do everything at once: start with \
             your passwords, and be wary of unexpected messages.",
        ),
    ],
    quiz: &[
        QuizQuestion {
            prompt: "After a breach, which message is most likely a scam?",
            options: &[
                "A notice in your Telewarden account from the practice",
                "A letter from the practice explaining what happened",
                "A text offering you a refund for the breach if you click a link and enter \
                 your card details",
                "The practice answering when you call its usual number",
            ],
            correct: 2,
            explanation: "Scammers use news of a breach to offer fake refunds or help. Contact \
             organisations through a channel you already trust.",
        },
        QuizQuestion {
            prompt: "Which is a good first step after a breach notice?",
            options: &[
                "Change any password you used in more than one place, starting with e-mail and \
                 banking",
                "Reply to the notice with your new password",
                "Ignore it",
                "Post your details online to warn others",
            ],
            correct: 0,
            explanation: "Reused passwords let one breach open other accounts. Changing them \
             first closes that door.",
        },
        QuizQuestion {
            prompt: "Who gives free help if you are worried that your identity may be misused?",
            options: &[
                "Anyone who calls offering help",
                "A social media group",
                "A company that texted you about the breach",
                "IDCARE",
            ],
            correct: 3,
            explanation: "IDCARE is Australia's free identity and cyber support service. \
             Contact it yourself, at idcare.org or 1800 595 160.",
        },
    ],
};
