use crate::{Lesson, TrainingError, lesson, score};

fn answers(l: &Lesson, right: usize) -> Vec<usize> {
    l.quiz
        .iter()
        .enumerate()
        .map(|(i, q)| {
            if i < right {
                q.correct
            } else {
                (q.correct + 1) % q.options.len()
            }
        })
        .collect()
}

#[test]
fn four_of_five_passes_three_of_five_fails() {
    let l = lesson("staff-phishing").unwrap();
    let r = score(l, l.version, &answers(l, 4)).unwrap();
    assert_eq!((r.correct, r.total, r.percent, r.passed), (4, 5, 80, true));
    let r = score(l, l.version, &answers(l, 3)).unwrap();
    assert_eq!((r.correct, r.total, r.percent, r.passed), (3, 5, 60, false));
    let r = score(l, l.version, &answers(l, 5)).unwrap();
    assert_eq!((r.percent, r.passed), (100, true));
}

#[test]
fn three_question_quiz_needs_all_three() {
    let l = lesson("patient-account").unwrap();
    assert_eq!(l.quiz.len(), 3);
    let r = score(l, l.version, &answers(l, 2)).unwrap();
    assert_eq!((r.percent, r.passed), (66, false));
    assert!(score(l, l.version, &answers(l, 3)).unwrap().passed);
}

#[test]
fn feedback_explains_every_question() {
    let l = lesson("staff-reporting").unwrap();
    let r = score(l, l.version, &answers(l, 4)).unwrap();
    assert_eq!(r.feedback.len(), 5);
    assert_eq!(r.lesson_id, "staff-reporting");
    for (i, f) in r.feedback.iter().enumerate() {
        assert_eq!(f.question, i);
        assert_eq!(f.correct_option, l.quiz[i].correct);
        assert_eq!(f.is_correct, i < 4);
        assert_eq!(f.explanation, l.quiz[i].explanation);
    }
}

#[test]
fn changed_lesson_is_refused() {
    let l = lesson("staff-phishing").unwrap();
    let err = score(l, l.version + 1, &answers(l, 5)).unwrap_err();
    assert_eq!(
        err,
        TrainingError::VersionChanged {
            opened: l.version + 1,
            current: l.version
        }
    );
    assert!(
        err.to_string()
            .contains("the lesson changed since you opened it")
    );
    let mut older = *l;
    older.version = 2;
    assert!(matches!(
        score(&older, 1, &answers(l, 5)),
        Err(TrainingError::VersionChanged {
            opened: 1,
            current: 2
        })
    ));
}

#[test]
fn wrong_number_of_answers_is_refused() {
    let l = lesson("staff-phishing").unwrap();
    assert_eq!(
        score(l, l.version, &[0, 0, 0]),
        Err(TrainingError::AnswerCount {
            expected: 5,
            got: 3
        })
    );
    assert_eq!(
        score(l, l.version, &[]),
        Err(TrainingError::AnswerCount {
            expected: 5,
            got: 0
        })
    );
    let mut six = answers(l, 5);
    six.push(0);
    assert!(matches!(
        score(l, l.version, &six),
        Err(TrainingError::AnswerCount { .. })
    ));
}

#[test]
fn option_out_of_range_is_refused() {
    let l = lesson("staff-phishing").unwrap();
    let mut a = answers(l, 5);
    a[2] = l.quiz[2].options.len();
    let err = score(l, l.version, &a).unwrap_err();
    assert_eq!(
        err,
        TrainingError::AnswerOutOfRange {
            question: 3,
            chosen: 4,
            options: 4
        }
    );
    a[2] = usize::MAX;
    assert!(matches!(
        score(l, l.version, &a),
        Err(TrainingError::AnswerOutOfRange { .. })
    ));
}
