//! Staff lessons on everyday handling of patient information in telehealth, and on
//! what to do and whom to tell when something looks wrong.

use super::{Audience, Block, Lesson, QuizQuestion};

/// Screens, headsets, links and exports.
pub(super) const PATIENT_DATA: Lesson = Lesson {
    id: "staff-patient-data",
    version: 1,
    audience: Audience::Staff,
    title: "Keeping patient information private in telehealth",
    minutes: 3,
    body: &[
        Block::Paragraph(
            "In a video consult, private information can leak in ways that never happen in a \
             consulting room: a screen seen from the corridor, a voice heard through a thin \
             wall, a link sent to the wrong person. A few habits keep patients' information \
             where it belongs.",
        ),
        Block::Paragraph("Your screen and your room:"),
        Block::Bullets(&[
            "Take consults in a private room with the door closed. Check who can see your \
             screen, including through windows, and what the camera shows behind you.",
            "Wear a headset so that only you hear the patient.",
            "Lock your screen every time you step away, even for a moment (Windows key + L on \
             Windows, Control + Command + Q on a Mac). Telewarden also signs you out when you \
             are idle.",
            "Before sharing your screen with a patient, close other patients' records, \
             messages and tabs, and share one window, not the whole screen.",
        ]),
        Block::Paragraph("Links and messages:"),
        Block::Bullets(&[
            "Send consult invitations through Telewarden only. Patients with an account find \
             the link inside it, so it cannot reach the wrong inbox.",
            "Do not paste consult links, records or results into personal e-mail, SMS or chat \
             apps.",
            "Check the patient's identity at the start of each consult, using the practice's \
             usual questions.",
        ]),
        Block::Paragraph("Exports and copies:"),
        Block::Bullets(&[
            "Export or print only what the care in front of you needs. Every export is \
             recorded in the audit log, and patients can see who opened their record.",
            "Never save patient files to personal devices, USB sticks or personal cloud storage.",
            "Shred paper copies; do not put them in ordinary bins.",
        ]),
        Block::Paragraph(
            "Open only the records of patients you are caring for, or that your role needs. \
             Looking up a neighbour, a celebrity or a relative out of curiosity is a privacy \
             breach, even if you tell nobody.",
        ),
        Block::Paragraph(
            "If something goes wrong, such as a record sent to the wrong person or a lost \
             laptop, tell the security officer straight away. Mistakes reported quickly can \
             often be put right before anyone is harmed.",
        ),
    ],
    quiz: &[
        QuizQuestion {
            prompt: "What should you do before sharing your screen in a consult?",
            options: &[
                "Nothing: the patient already trusts you",
                "Close other patients' records and share only the window you need",
                "Turn off your camera",
                "Share the whole screen so nothing looks hidden",
            ],
            correct: 1,
            explanation: "Sharing the whole screen can show other patients' details. Close \
             what the patient should not see and share one window.",
        },
        QuizQuestion {
            prompt: "How should a patient with a Telewarden account receive their consult link?",
            options: &[
                "By SMS from your own phone",
                "By your personal e-mail",
                "Read out over the phone",
                "Inside their Telewarden account, sent through Telewarden",
            ],
            correct: 3,
            explanation: "A link sent through Telewarden appears only in the patient's \
             account, so it cannot reach the wrong person, and patients learn to distrust \
             links that arrive any other way.",
        },
        QuizQuestion {
            prompt: "You step away from your desk for a minute. What should you do?",
            options: &[
                "Lock your screen",
                "Leave it: you will be back soon",
                "Turn the monitor off",
                "Ask a patient in the room to keep an eye on it",
            ],
            correct: 0,
            explanation: "Locking takes a second and keeps the record private. A monitor that \
             is switched off does not stop someone using the computer.",
        },
        QuizQuestion {
            prompt: "A well-known person is a patient of the practice, but not yours. May you \
             look at their record?",
            options: &[
                "Yes, if you tell nobody",
                "Only to check their appointment time",
                "No, not unless your role needs it for their care",
                "Yes, everyone in the practice may",
            ],
            correct: 2,
            explanation: "Looking without a work reason is a privacy breach even if nothing is \
             shared, and the access is recorded where the patient can see it.",
        },
        QuizQuestion {
            prompt: "Where may you save an exported patient file?",
            options: &[
                "On a USB stick, to work at home",
                "In your personal cloud storage",
                "On your personal phone",
                "Only where the practice says, and only what the care needs",
            ],
            correct: 3,
            explanation: "Personal devices and storage are outside the practice's protection. \
             Keep exports to what is needed, in the places the practice has approved.",
        },
    ],
};

/// When and how to report, and to whom.
pub(super) const REPORTING: Lesson = Lesson {
    id: "staff-reporting",
    version: 1,
    audience: Audience::Staff,
    title: "Something looks wrong: what to do and whom to tell",
    minutes: 2,
    body: &[
        Block::Paragraph(
            "You do not need to be sure something is wrong to report it. Most security \
             problems are caught early because someone said “this looks odd”. A report that \
             turns out to be nothing costs a few minutes; a report never made can cost a \
             patient their privacy.",
        ),
        Block::Paragraph("Report when, for example:"),
        Block::Bullets(&[
            "a message, call or text seems suspicious, or you clicked a link or opened an \
             attachment you now doubt;",
            "you approved a sign-in or shared a code, even by mistake;",
            "a patient's information went to the wrong person, or was seen by someone who \
             should not see it;",
            "a laptop, phone or security key is lost or stolen;",
            "Telewarden shows a sign-in, device or export that you do not recognise;",
            "a patient tells you about a strange message that claimed to be from the practice.",
        ]),
        Block::Paragraph("How to report:"),
        Block::Bullets(&[
            "For a suspicious message in Telewarden, press the “Report suspicious message” \
             button. It passes the message safely to the security officer, with the details \
             they need.",
            "For anything else, tell the security officer straight away, in person or by \
             phone. If they are away, tell the practice manager.",
            "Say what happened, when, and what you did. Keep the message or device as it is: \
             do not delete or forward anything.",
        ]),
        Block::Paragraph("What not to do:"),
        Block::Bullets(&[
            "Do not investigate on your own, reply to the sender or call the number in the \
             message.",
            "Do not wait until the end of the day, or until you are sure.",
            "Do not keep quiet out of embarrassment. Nobody is punished for an honest report, \
             including a report of their own mistake.",
        ]),
        Block::Paragraph(
            "Speed matters because the practice's legal deadlines start when anyone in the \
             practice knows about a possible breach, not when the security officer hears of \
             it. The next lesson explains those deadlines.",
        ),
    ],
    quiz: &[
        QuizQuestion {
            prompt: "When should you report something that looks wrong?",
            options: &[
                "Only when you are sure it is an attack",
                "At the end of the week",
                "As soon as you notice, even if you are not sure",
                "Only if a patient complains",
            ],
            correct: 2,
            explanation: "Early reports give the most time to act. Deciding whether it is \
             serious is the security officer's job, not yours.",
        },
        QuizQuestion {
            prompt: "What is the best way to report a suspicious message in Telewarden?",
            options: &[
                "Press the “Report suspicious message” button",
                "Forward it to everyone",
                "Reply and ask the sender who they are",
                "Delete it",
            ],
            correct: 0,
            explanation: "The button passes the message safely to the security officer with \
             its details. Forwarding spreads it, and replying tells the scammer your address \
             works.",
        },
        QuizQuestion {
            prompt: "Your work phone is lost. Whom do you tell?",
            options: &[
                "Nobody, if it had a screen lock",
                "Your colleagues at the next staff meeting",
                "The phone shop",
                "The security officer, straight away",
            ],
            correct: 3,
            explanation: "A lost device can give access to accounts and patient information. \
             The security officer can sign it out of Telewarden at once.",
        },
        QuizQuestion {
            prompt: "You sent a patient's letter to the wrong e-mail address. What should you do?",
            options: &[
                "Tell the security officer straight away",
                "Hope nobody notices",
                "Wait to see whether anyone complains",
                "Quietly fix it yourself and move on",
            ],
            correct: 0,
            explanation: "It may be a breach the practice must assess within a deadline. \
             Reporting at once gives the most time to limit the harm.",
        },
        QuizQuestion {
            prompt: "Will you get into trouble for reporting your own mistake?",
            options: &[
                "Yes, always",
                "Only if it was a real attack",
                "No: honest reports are welcome and nobody is punished for them",
                "Only if you clicked a link",
            ],
            correct: 2,
            explanation: "The practice needs to hear about mistakes quickly, and punishing \
             honest reports would only make people hide them.",
        },
    ],
};
