use std::collections::HashSet;

use crate::{Audience, Block, TrainingError, lesson, lessons, patient_set, policy, staff_set};

/// Reading speed used for the three-minute promise.
const WORDS_PER_MINUTE: usize = 150;

/// Each lesson's version with the digest of its content. If a test here fails after a
/// content change, bump the lesson's `version` and update the digest: learners who
/// opened the old text must not be scored against the new one.
const PINNED: &[(&str, u32, &str)] = &[
    (
        "staff-phishing",
        1,
        "b1f9e3ebf581152d276be35007a7ac0b2357cbbff34bfdf4dbaefb665dc4561f",
    ),
    (
        "staff-mfa-codes",
        1,
        "3a10ea44b77d2be1b51237572c5c84e557332fa95a96b2b7804bad05d476f7ae",
    ),
    (
        "staff-patient-data",
        1,
        "595e9e72cd5fc0a4827fcded38c8b89ca4fbf6a474145663a6d339ac9d9f4130",
    ),
    (
        "staff-reporting",
        1,
        "e7b1c81e1fdce7a153b37e0064e00521a4219b83efde212bde9d40ca94719967",
    ),
    (
        "staff-breach-duties",
        1,
        "8c0829345062b781deaed63e968e65a63a3fcfc890e0d4da00dece23b1813287",
    ),
    (
        "patient-how-we-contact",
        1,
        "12d6ccae4f708f257dcfeaa9e1d0220db2c165808c693cad2c6bbdb81ce422e1",
    ),
    (
        "patient-check-link",
        1,
        "dcef832925cd3769c20403d6f8787c8c70d06e2364b2cfdd7f1cb61a4fb2b304",
    ),
    (
        "patient-account",
        1,
        "eda92bb67a0d444b7bf3c942f28749273aaad6e2447644f1a51372e1ff65a89b",
    ),
    (
        "patient-after-breach",
        1,
        "3a3788553a550ba0baab1091e2f5254f30954eb2864b00b837f8634c12dd1a23",
    ),
    (
        "staff-acceptable-use",
        1,
        "3205a1ba4d60c6315d9a90827a0e32dfe98c8db712c6face69f7517b623e7b18",
    ),
];

#[test]
fn ids_are_unique_and_sets_split_by_audience() {
    let ids: HashSet<&str> = lessons().iter().map(|l| l.id).collect();
    assert_eq!(ids.len(), lessons().len());
    assert!(!ids.contains(policy().id));
    assert_eq!(staff_set().len(), 5);
    assert_eq!(patient_set().len(), 4);
    assert!(staff_set().iter().all(|l| l.audience == Audience::Staff));
    assert!(
        patient_set()
            .iter()
            .all(|l| l.audience == Audience::Patient)
    );
    assert!(staff_set().iter().all(|l| l.id.starts_with("staff-")));
    assert!(patient_set().iter().all(|l| l.id.starts_with("patient-")));
}

#[test]
fn every_quiz_has_three_to_five_questions_with_one_valid_answer() {
    for l in lessons() {
        assert!(
            (3..=5).contains(&l.quiz.len()),
            "{}: {} questions",
            l.id,
            l.quiz.len()
        );
        if l.audience == Audience::Staff {
            assert_eq!(
                l.quiz.len(),
                5,
                "{}: staff quizzes allow one slip at 80%",
                l.id
            );
        }
        for (i, q) in l.quiz.iter().enumerate() {
            assert!(q.options.len() >= 3, "{} q{i}: too few options", l.id);
            assert!(
                q.correct < q.options.len(),
                "{} q{i}: correct out of range",
                l.id
            );
            assert!(!q.prompt.trim().is_empty(), "{} q{i}: empty prompt", l.id);
            assert!(
                q.explanation.split_whitespace().count() >= 8,
                "{} q{i}: explain why",
                l.id
            );
            let distinct: HashSet<&str> = q.options.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                q.options.len(),
                "{} q{i}: duplicate options",
                l.id
            );
            assert!(
                q.options.iter().all(|o| !o.trim().is_empty()),
                "{} q{i}",
                l.id
            );
        }
        // The correct answer is not always in the same place.
        let places: HashSet<usize> = l.quiz.iter().map(|q| q.correct).collect();
        assert!(
            places.len() >= 2,
            "{}: the answer is always option {places:?}",
            l.id
        );
    }
}

#[test]
fn lessons_fit_in_three_minutes_and_state_their_time() {
    for l in lessons() {
        let words = l.word_count();
        assert!(words <= 3 * WORDS_PER_MINUTE, "{}: {words} words", l.id);
        assert!(words >= 200, "{}: only {words} words", l.id);
        let minutes = words.div_ceil(WORDS_PER_MINUTE);
        assert_eq!(usize::from(l.minutes), minutes, "{}: {words} words", l.id);
        assert!(
            !l.body.is_empty() && l.body.iter().all(|b| b.word_count() > 0),
            "{}",
            l.id
        );
        assert!(l.version >= 1);
    }
}

#[test]
fn versions_are_bumped_when_content_changes() {
    let now: Vec<(&str, u32, String)> = lessons()
        .iter()
        .map(|l| (l.id, l.version, l.content_digest()))
        .collect();
    let p = policy();
    let mut all = now.clone();
    all.push((p.id, p.version, p.content_digest()));
    let stale: Vec<String> = all
        .iter()
        .filter(|(id, version, digest)| !PINNED.contains(&(id, *version, digest.as_str())))
        .map(|(id, version, digest)| format!("(\"{id}\", {version}, \"{digest}\"),"))
        .collect();
    assert!(
        stale.is_empty(),
        "content changed? bump the version, then pin:\n{}",
        stale.join("\n")
    );
    assert_eq!(PINNED.len(), all.len());
}

#[test]
fn digest_changes_with_any_visible_text() {
    let mut l = *lesson("staff-phishing").unwrap();
    let before = l.content_digest();
    l.title = "Another title";
    assert_ne!(l.content_digest(), before);
    let mut l = *lesson("staff-phishing").unwrap();
    l.body = &[Block::Paragraph("x")];
    assert_ne!(l.content_digest(), before);
}

#[test]
fn lookup_by_id() {
    assert_eq!(lesson("staff-reporting").unwrap().id, "staff-reporting");
    assert_eq!(
        lesson("nope"),
        Err(TrainingError::UnknownLesson { id: "nope".into() })
    );
}

#[test]
fn content_says_what_the_brief_requires() {
    let text = |id: &str| {
        let l = lesson(id).unwrap();
        let mut s = String::new();
        for b in l.body {
            match b {
                Block::Paragraph(p) => s.push_str(p),
                Block::Bullets(items) => items.iter().for_each(|i| s.push_str(i)),
            }
            s.push(' ');
        }
        s
    };
    let breach = text("staff-breach-duties");
    assert!(breach.contains("30 days") && breach.contains("60 days"));
    assert!(breach.contains("anyone in the practice knows"));
    assert!(text("staff-mfa-codes").contains("never asks for your codes"));
    assert!(text("staff-reporting").contains("“Report suspicious message”"));
    assert!(text("patient-how-we-contact").contains("never"));
    let after = text("patient-after-breach");
    for needle in ["OAIC", "IDCARE", "Scamwatch", "password"] {
        assert!(after.contains(needle), "{needle}");
    }
    let p = policy();
    assert_eq!(p.version, 1);
    assert!(p.title.contains("Acceptable use"));
}

#[test]
fn lessons_serialise_for_the_server() {
    let json = serde_json::to_value(lesson("patient-account").unwrap()).unwrap();
    assert_eq!(json["audience"], "patient");
    assert_eq!(json["body"][0]["kind"], "paragraph");
    assert!(json["body"][1]["text"].is_array() || json["body"][1]["text"].is_string());
}
