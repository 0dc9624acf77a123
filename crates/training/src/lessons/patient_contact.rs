//! Patient lessons on how the practice really contacts them and how to check a link,
//! so that a fake consult link or a fake Medicare message is easy to spot.

use super::{Audience, Block, Lesson, QuizQuestion};

/// What the practice will, and will never, do.
pub(super) const HOW_WE_CONTACT: Lesson = Lesson {
    id: "patient-how-we-contact",
    version: 1,
    audience: Audience::Patient,
    title: "How your practice will contact you",
    minutes: 2,
    body: &[
        Block::Paragraph(
            "Scammers sometimes pretend to be doctors, clinics, Medicare or myGov. Knowing how \
             your practice really contacts you makes a fake message easier to spot.",
        ),
        Block::Paragraph("Your practice will:"),
        Block::Bullets(&[
            "put your video consult link in your Telewarden account. Open the app or the \
             practice's usual address, sign in, and the link is waiting for you;",
            "send messages and results inside your Telewarden account, with at most a short \
             e-mail or text saying there is something new;",
            "use the phone number and addresses you gave them.",
        ]),
        Block::Paragraph("Your practice will never:"),
        Block::Bullets(&[
            "ask you for your password, a sign-in code or a recovery code, by phone, text, \
             e-mail or in person;",
            "send you a link asking you to sign in, pay, or “confirm your details”;",
            "ask you to pay with gift cards, cryptocurrency or a transfer to a new bank account;",
            "threaten to cancel your care or your Medicare if you do not act straight away.",
        ]),
        Block::Paragraph(
            "One exception: if you do not have an account yet, the practice may e-mail you a \
             one-time link for your first consult and tell you a 6-digit code by phone. They \
             give you the code; they never ask you to read a code back to them.",
        ),
        Block::Paragraph(
            "If a message or call does not fit, do not click, reply or give any details. Open \
             Telewarden yourself, or call the practice on the number you already know, for \
             example from your appointment card. Ask: “Is this really you?”",
        ),
        Block::Paragraph(
            "You can report scam messages to Scamwatch (scamwatch.gov.au). If you gave details \
             to a scammer, call your bank, and IDCARE (idcare.org) for free help.",
        ),
    ],
    quiz: &[
        QuizQuestion {
            prompt: "Someone calls, says they are from your practice, and asks you to read out \
             the code just sent to your phone. What is it?",
            options: &[
                "A scam: your practice never asks for your codes",
                "A normal check",
                "Fine, if they know your name",
                "Fine, if they say it is urgent",
            ],
            correct: 0,
            explanation: "Your practice never asks for passwords or codes. Whoever asks wants \
             to get into your account. Hang up and call the practice on the number you know.",
        },
        QuizQuestion {
            prompt: "Where will your video consult link be, if you have a Telewarden account?",
            options: &[
                "In a text message from an unknown number",
                "In a social media message",
                "In your Telewarden account, when you sign in yourself",
                "In a phone call",
            ],
            correct: 2,
            explanation: "Your practice puts consult links in your account. A link that \
             arrives any other way deserves a careful check.",
        },
        QuizQuestion {
            prompt: "A message says your Medicare will be cancelled unless you click a link \
             today. What should you do?",
            options: &[
                "Click quickly",
                "Reply with your details",
                "Forward it to family",
                "Do not click; contact the organisation through a number or app you already trust",
            ],
            correct: 3,
            explanation: "Threats and deadlines are signs of a scam. Contact the organisation \
             through a channel you already trust.",
        },
    ],
};

/// Checking that a consult link is real.
pub(super) const CHECK_LINK: Lesson = Lesson {
    id: "patient-check-link",
    version: 1,
    audience: Audience::Patient,
    title: "Is this link really from your practice?",
    minutes: 2,
    body: &[
        Block::Paragraph(
            "A fake link can look just like your practice's page and ask you to sign in, so \
             that a scammer gets into your account. Take ten seconds to check before you use a \
             link.",
        ),
        Block::Paragraph(
            "The safest way is not to use links in messages at all. Open the Telewarden app, \
             or type your practice's usual address yourself (or use a bookmark you saved), and \
             sign in. Your consult and messages will be waiting there.",
        ),
        Block::Paragraph("If you do open a link, check:"),
        Block::Bullets(&[
            "The address. Look at the address bar, not the words in the message. It should be \
             exactly your practice's Telewarden address, such as the one on your appointment \
             card. Watch for extra words, missing letters, or a different ending, such as .com \
             instead of .com.au.",
            "The padlock next to the address. It means the connection is private, but scam \
             sites can have one too: a padlock alone does not prove the page is your \
             practice's.",
            "What it asks for. A real consult page never asks for your bank card, your \
             Medicare number or a payment to join.",
        ]),
        Block::Paragraph(
            "Your passkey helps too, because it only works on your practice's real address. If \
             a page asks you to sign in but your phone does not offer your passkey, or asks \
             you to type a code that someone sent you, stop and open Telewarden yourself.",
        ),
        Block::Paragraph(
            "Not sure? Call your practice on the number you already know and ask: “Is this \
             really you?” They will be glad you checked.",
        ),
    ],
    quiz: &[
        QuizQuestion {
            prompt: "What is the safest way to join your video consult?",
            options: &[
                "Tap the link in any text message",
                "Open the Telewarden app or your practice's usual address yourself, and sign in",
                "Search for the practice's name and click the first result",
                "Reply to the message and ask for the link",
            ],
            correct: 1,
            explanation: "Going in yourself means a fake link never gets the chance to fool you.",
        },
        QuizQuestion {
            prompt: "A page shows a padlock next to the address. Does that prove it is your \
             practice?",
            options: &[
                "Yes, always",
                "Only on a phone",
                "No: it means the connection is private, but you still need to check the address",
                "Only if the page shows the practice's logo",
            ],
            correct: 2,
            explanation: "Scam sites can have a padlock and copy a logo. The address is what \
             tells you whose page it is.",
        },
        QuizQuestion {
            prompt: "A page asks you to sign in, but your phone does not offer your passkey. \
             What should you do?",
            options: &[
                "Stop, close the page and open Telewarden yourself",
                "Type your password and any code instead",
                "Try again several times",
                "Call the phone number shown on the page",
            ],
            correct: 0,
            explanation: "Your passkey only works on your practice's real address, so a page \
             where it does not appear may be a fake.",
        },
    ],
};
