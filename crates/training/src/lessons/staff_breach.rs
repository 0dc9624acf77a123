//! The staff lesson on the practice's legal breach duties: it exists so that everyone
//! knows the clocks start when anyone in the practice knows, not when the manager hears.

use super::{Audience, Block, Lesson, QuizQuestion};

/// The NDB 30-day assessment and the HIPAA 60-day notice.
pub(super) const BREACH_DUTIES: Lesson = Lesson {
    id: "staff-breach-duties",
    version: 1,
    audience: Audience::Staff,
    title: "The practice's breach duties, and why minutes count",
    minutes: 3,
    body: &[
        Block::Paragraph(
            "When personal information is lost, or seen, changed or taken by someone who \
             should not have it, the law may require the practice to tell the people affected \
             and the regulator. The security officer handles this, but the deadlines depend on \
             everyone.",
        ),
        Block::Paragraph("In Australia, under the Notifiable Data Breaches scheme:"),
        Block::Bullets(&[
            "If the practice suspects a breach that could cause serious harm, it must assess \
             it quickly, and within 30 days at most.",
            "If serious harm is likely and cannot be prevented, the practice must notify the \
             people affected and the Office of the Australian Information Commissioner (OAIC) \
             as soon as practicable.",
            "Health information is sensitive, so a breach of it is more likely to cause \
             serious harm.",
        ]),
        Block::Paragraph("In the United States, under HIPAA:"),
        Block::Bullets(&[
            "A breach of unsecured health information must be notified to the people affected \
             without unreasonable delay, and no later than 60 days after it is discovered.",
            "A breach counts as discovered on the first day anyone in the practice knows of \
             it, or would have known with reasonable care. The clock does not wait for the \
             manager or the security officer.",
            "A breach affecting 500 or more people must also be reported to the government at \
             the same time, and often to the media.",
        ]),
        Block::Paragraph("What this means for you:"),
        Block::Bullets(&[
            "Report anything that might be a breach at once. Waiting a week uses up a week of \
             the practice's time, however good your reasons.",
            "Report even if you are unsure whether it counts as a breach. Deciding that is the \
             security officer's job.",
            "Write down what you saw and when. Exact times matter, because the practice must \
             later show when it knew and what it did.",
            "Do not contact patients, the media or social media about it yourself. The \
             practice will send clear, accurate notices.",
        ]),
        Block::Paragraph(
            "Telewarden helps the security officer keep the record: when the practice became \
             aware, what was found, the assessment, and the notices sent. That record starts \
             with your report.",
        ),
    ],
    quiz: &[
        QuizQuestion {
            prompt: "Under Australia's Notifiable Data Breaches scheme, how long does the \
             practice have to assess a suspected breach?",
            options: &[
                "7 days",
                "60 days",
                "There is no limit",
                "30 days at most, and sooner if possible",
            ],
            correct: 3,
            explanation: "The practice must take reasonable steps to finish its assessment \
             within 30 days of suspecting a breach, and should act faster where it can.",
        },
        QuizQuestion {
            prompt: "Under HIPAA, when does the 60-day clock start?",
            options: &[
                "When anyone in the practice knows of the breach, or should have known",
                "When the security officer is told",
                "When the patient complains",
                "When the investigation ends",
            ],
            correct: 0,
            explanation: "Discovery is the first day anyone in the practice knows, or would \
             have known with reasonable care. A delay before reporting uses up the practice's \
             time.",
        },
        QuizQuestion {
            prompt: "You think something might be a breach but you are not sure. What should \
             you do?",
            options: &[
                "Wait until you are sure",
                "Look into it yourself first",
                "Report it now and let the security officer decide",
                "Ask a friend outside the practice",
            ],
            correct: 2,
            explanation: "Deciding whether it is a notifiable breach is the security officer's \
             job. Your part is to report it quickly.",
        },
        QuizQuestion {
            prompt: "Why write down what you saw and when?",
            options: &[
                "It is not needed",
                "The practice must later show when it knew and what it did",
                "So you can post about it",
                "To keep it from the security officer",
            ],
            correct: 1,
            explanation: "The practice carries the burden of showing that it met its \
             deadlines, and exact times from the first person who noticed are the best \
             evidence.",
        },
        QuizQuestion {
            prompt: "Who tells patients about a breach?",
            options: &[
                "You, by phone, as soon as you can",
                "Nobody",
                "The patient's family",
                "The practice, through its notices",
            ],
            correct: 3,
            explanation: "Notices must be accurate and complete. The practice sends them, so \
             patients get one clear message rather than rumours.",
        },
    ],
};
