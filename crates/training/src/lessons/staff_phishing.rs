//! Staff lessons on the two ways people are tricked most: messages and calls that
//! pretend to be someone else, and scams that try to get past passkeys by asking for codes.

use super::{Audience, Block, Lesson, QuizQuestion};

/// Phishing e-mails and pretexting phone calls.
pub(super) const PHISHING: Lesson = Lesson {
    id: "staff-phishing",
    version: 1,
    audience: Audience::Staff,
    title: "Phishing messages and pretexting calls",
    minutes: 3,
    body: &[
        Block::Paragraph(
            "Most breaches in small practices start with a message or a phone call, not a \
             clever hack. Someone pretends to be a patient, a colleague, a supplier or \
             Telewarden itself, and asks you to click, open, pay or tell. By e-mail or text \
             this is called phishing; when someone tells a believable story, often by phone, \
             it is called pretexting.",
        ),
        Block::Paragraph("Signs that a message or call is not what it says:"),
        Block::Bullets(&[
            "It is urgent or frightening: “your account will be closed today”, “the patient is \
             waiting”, “the auditor needs this now”.",
            "It asks for something unusual: a password, a code, a patient list, new bank \
             details, or a file sent to a personal address.",
            "The sender's address, the link or the phone number is slightly wrong, such as \
             telewarden-support.com, or a mobile number for a “head office”.",
            "It asks you to skip the usual way of doing things, or to keep it from the \
             practice manager.",
            "It has an attachment you were not expecting, especially an invoice, a referral or \
             a “scanned record”.",
        ]),
        Block::Paragraph(
            "Pretexting calls sound friendly and sure of themselves. The caller may say they \
             are from IT, the hospital, Medicare, or the family of a patient. They may already \
             know names and appointment times, which makes them sound real. Knowing a few \
             details does not prove who someone is.",
        ),
        Block::Paragraph("What to do:"),
        Block::Bullets(&[
            "Do not click, reply or open attachments while you are unsure. Nothing bad happens \
             if you take a minute to check.",
            "Check using a contact you already trust: the number on the practice's list or the \
             organisation's official website, never one given in the message or by the caller.",
            "Never read out patient details, passwords or codes to someone you have not \
             verified. For patients, follow the identity check the practice uses.",
            "Use the “Report suspicious message” button in Telewarden, or tell the security \
             officer. Reporting is the most useful thing you can do, even if you already \
             clicked.",
        ]),
        Block::Paragraph(
            "From time to time the security officer sends practice phishing messages. They \
             help everyone practise spotting and reporting; they are not there to catch anyone \
             out. If you click one, you see a short page explaining what to look for, and \
             nobody is disciplined for it.",
        ),
    ],
    quiz: &[
        QuizQuestion {
            prompt: "An e-mail that looks like it is from Telewarden support says you must \
             confirm your sign-in within one hour or lose access. What should you do first?",
            options: &[
                "Click the link quickly so you keep access",
                "Reply and ask whether it is genuine",
                "Leave the link alone and report the message with the “Report suspicious \
                 message” button",
                "Forward it to colleagues to warn them",
            ],
            correct: 2,
            explanation: "Urgency is a common trick. A reply goes to the scammer, who will say \
             it is genuine, and forwarding spreads the link. Reporting lets the security \
             officer warn everyone safely.",
        },
        QuizQuestion {
            prompt: "A caller says they are from the hospital and need a patient's medication \
             list now. They know the patient's name and appointment time. What do you do?",
            options: &[
                "Share it: they know the details, so they must be genuine",
                "Share it if they sound professional",
                "Ask them to e-mail the request from any address",
                "Call the hospital back on a number you already trust before sharing anything",
            ],
            correct: 3,
            explanation: "Names and appointment times can be found or guessed. Calling back on \
             a number you already trust is how you check who someone is.",
        },
        QuizQuestion {
            prompt: "Which of these is a warning sign?",
            options: &[
                "A supplier asking you, by e-mail, to update their bank details",
                "A colleague's message about a meeting you both arranged",
                "A reminder shown inside your own Telewarden account",
                "A patient booking through the app",
            ],
            correct: 0,
            explanation: "Requests to change bank details or send money are a favourite of \
             scammers. Check with the supplier using a number you already have.",
        },
        QuizQuestion {
            prompt: "You clicked a link in an e-mail and then realised it looked wrong. What now?",
            options: &[
                "Say nothing, since nothing seemed to happen",
                "Report it to the security officer straight away, saying that you clicked",
                "Delete the e-mail so nobody knows",
                "Wait to see if anything strange happens",
            ],
            correct: 1,
            explanation: "A quick report after a click lets the security officer act before \
             harm is done. Nobody gets into trouble for reporting.",
        },
        QuizQuestion {
            prompt: "What happens if you click a practice phishing message sent by the \
             security officer?",
            options: &[
                "You are disciplined",
                "Your account is locked for a week",
                "Your manager is told to watch you",
                "You see a short page explaining the signs you could have spotted",
            ],
            correct: 3,
            explanation: "Practice messages are for learning. A click shows a short \
             explanation, and there is no discipline.",
        },
    ],
};

/// Passkeys, prompt fatigue and code-sharing scams.
pub(super) const MFA_CODES: Lesson = Lesson {
    id: "staff-mfa-codes",
    version: 1,
    audience: Audience::Staff,
    title: "Sign-in prompts and code-sharing scams",
    minutes: 3,
    body: &[
        Block::Paragraph(
            "Telewarden signs you in with a passkey: your phone or computer proves it is you \
             with your fingerprint, face or screen lock. A passkey only works on the \
             practice's real Telewarden address, so a fake sign-in page cannot use it. Some \
             people also have an authenticator app code, and everyone has recovery codes for \
             emergencies.",
        ),
        Block::Paragraph(
            "Because passkeys are hard to steal, scammers try to get you to hand over the \
             second step instead. Two common tricks:",
        ),
        Block::Bullets(&[
            "Code-sharing scams: someone calls, texts or e-mails pretending to be IT, \
             Telewarden or the practice manager, and asks you to read out a code you just \
             received, or a recovery code, “to verify your account” or “to stop a hacker”.",
            "Prompt fatigue: sign-in requests you did not start arrive again and again, in the \
             hope that you approve one to make them stop. Sometimes a caller says “just \
             approve the next prompt”.",
        ]),
        Block::Paragraph("The rules are simple:"),
        Block::Bullets(&[
            "Telewarden never asks for your codes, recovery codes or password by phone, text, \
             e-mail or chat. Nor do the practice, the security officer or any support person. \
             Anyone who asks is a scammer.",
            "Type a code only into the Telewarden sign-in page that you opened yourself, from \
             the practice's usual address or app.",
            "Never approve a sign-in or passkey prompt that you did not start yourself, just now.",
            "Keep recovery codes private and offline, such as in a sealed envelope in a locked \
             drawer. Do not photograph them or keep them in e-mail.",
            "Do not share your account, not even for a minute to help a busy colleague. Every \
             action in Telewarden is recorded against the person signed in.",
        ]),
        Block::Paragraph(
            "A prompt or code you did not ask for may mean someone is trying to get into your \
             account. Do not approve it. Use the “Report suspicious message” button or tell \
             the security officer straight away: they can check the sign-in history, sign out \
             other devices and replace your recovery codes.",
        ),
        Block::Paragraph(
            "If you already shared a code, do not be embarrassed: report it at once. The \
             sooner the security officer knows, the smaller the harm.",
        ),
    ],
    quiz: &[
        QuizQuestion {
            prompt: "Someone calls saying they are from Telewarden support and asks you to \
             read out the code that was just sent to you. What is this?",
            options: &[
                "A normal security check",
                "Fine, if they know your name",
                "A scam: Telewarden and the practice never ask for codes",
                "Fine, if the practice manager is in the room",
            ],
            correct: 2,
            explanation: "Nobody genuine ever needs your code. Whoever asks for it wants to \
             sign in as you.",
        },
        QuizQuestion {
            prompt: "Your phone shows a sign-in request that you did not start. What should \
             you do?",
            options: &[
                "Deny it and tell the security officer",
                "Approve it to make it go away",
                "Ignore it and carry on",
                "Approve it, then change your password",
            ],
            correct: 0,
            explanation: "A prompt you did not start may mean someone is trying to sign in as \
             you. Deny it and report it so the sign-in can be checked.",
        },
        QuizQuestion {
            prompt: "Why is a passkey safer than a password?",
            options: &[
                "It is longer",
                "It never expires",
                "It can be shared safely",
                "It only works on the practice's real Telewarden address, so a fake page \
                 cannot use it",
            ],
            correct: 3,
            explanation: "A passkey is tied to the real site. Even a perfect copy of the \
             sign-in page cannot use it, and there is nothing for you to type into a fake \
             page.",
        },
        QuizQuestion {
            prompt: "Where is the best place to keep your recovery codes?",
            options: &[
                "In a photo on your phone",
                "Private and offline, such as a sealed envelope in a locked drawer",
                "In an e-mail to yourself",
                "On a sticky note on your screen",
            ],
            correct: 1,
            explanation: "Recovery codes open your account. Kept offline and private, they \
             cannot be stolen along with your phone or your e-mail.",
        },
        QuizQuestion {
            prompt: "A busy colleague asks to use your signed-in Telewarden for a minute. What \
             do you do?",
            options: &[
                "Let them, it is only a minute",
                "Let them if they are a clinician",
                "Say no: they should sign in as themselves",
                "Let them if you watch",
            ],
            correct: 2,
            explanation: "Every action is recorded against the person signed in. Sharing an \
             account hides who did what and breaks the practice's policy.",
        },
    ],
};
