//! What a new password must be, for people who cannot use passkeys (often elderly
//! patients).
//!
//! Following NIST SP 800-63B: no composition rules (they make passwords harder to
//! remember, not harder to guess), at least 12 characters, and a refusal of passwords
//! that are common or easy to guess. zxcvbn's bundled frequency lists hold the most
//! common leaked passwords, names and words; we require its score 3 ("safely
//! unguessable": about 10^10 guesses). We also refuse passwords built on the person's
//! own name or e-mail address, which others may know.

use zxcvbn::feedback::{Suggestion, Warning};
use zxcvbn::matching::patterns::MatchPattern;
use zxcvbn::{Score, zxcvbn};

/// Fewest characters (Unicode scalar values) in a new password.
pub const MIN_CHARS: usize = 12;
/// Most bytes accepted: bounds memory and hashing work.
pub const MAX_BYTES: usize = 1024;
/// zxcvbn's matching grows quickly with length, so only this many characters are
/// scored. Anything this long that reached the check is long enough anyway.
const SCORED_CHARS: usize = 100;
/// Lowest acceptable zxcvbn score.
const MIN_SCORE: Score = Score::Three;
/// Shortest piece of a name or e-mail address refused by itself inside a password;
/// shorter pieces ("Li", "Ana") occur by chance in too many unrelated words.
const PERSONAL_MIN_CHARS: usize = 4;
/// Advice that ends every refusal: the simplest way to a strong, memorable password.
macro_rules! advice {
    () => {
        "Try three or four unrelated words."
    };
}

/// Why a new password was refused. Each message is a sentence for the person
/// choosing it, ending with what to do instead.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    #[error("That password is too short. Use at least 12 characters. {}", advice!())]
    TooShort,
    #[error("That password is longer than we can accept. {}", advice!())]
    TooLong,
    #[error(
        "That password is one of the most common ones, or very close to one, so it is \
         easy to guess. {}",
        advice!()
    )]
    TooCommon,
    /// `reason` is one sentence saying why, from zxcvbn's feedback.
    #[error("{reason} {}", advice!())]
    TooGuessable { reason: &'static str },
    #[error(
        "That password contains your name or e-mail address, which other people may \
         know. {}",
        advice!()
    )]
    ContainsPersonalInfo,
}

/// Checks a new password. `user_inputs` are what others may know about the person:
/// their name and e-mail address. (Every word of 4+ letters in them is refused outright,
/// so callers pass only these two: a practice name like "Riverside Family Practice"
/// would refuse any password containing "family".)
pub fn check(password: &str, user_inputs: &[&str]) -> Result<(), PasswordProblem> {
    if password.len() > MAX_BYTES {
        return Err(PasswordProblem::TooLong);
    }
    if password.chars().count() < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }

    let personal = personal_parts(user_inputs);
    let lower = password.to_lowercase();
    let compact = alphanumeric(&lower);
    if personal.iter().any(|p| {
        p.chars().count() >= PERSONAL_MIN_CHARS && (lower.contains(p) || compact.contains(p))
    }) {
        return Err(PasswordProblem::ContainsPersonalInfo);
    }

    let scored: String = password.chars().take(SCORED_CHARS).collect();
    let mut inputs: Vec<&str> = personal.iter().map(String::as_str).collect();
    inputs.extend(user_inputs.iter().map(|s| truncate(s, SCORED_CHARS)));
    let entropy = zxcvbn(&scored, &inputs);
    if entropy.score() >= MIN_SCORE {
        return Ok(());
    }

    let used_personal = entropy.sequence().iter().any(|m| match &m.pattern {
        // zxcvbn does not export the dictionary type; its Debug name is stable.
        MatchPattern::Dictionary(d) => format!("{:?}", d.dictionary_name) == "UserInputs",
        _ => false,
    });
    if used_personal {
        return Err(PasswordProblem::ContainsPersonalInfo);
    }
    let warning = entropy.feedback().and_then(|f| f.warning());
    let suggestions = entropy
        .feedback()
        .map(|f| f.suggestions())
        .unwrap_or_default();
    Err(problem(warning, suggestions))
}

/// zxcvbn's feedback as one plain sentence.
fn problem(warning: Option<Warning>, suggestions: &[Suggestion]) -> PasswordProblem {
    let reason = match warning {
        Some(
            Warning::ThisIsATop10Password
            | Warning::ThisIsATop100Password
            | Warning::ThisIsACommonPassword
            | Warning::ThisIsSimilarToACommonlyUsedPassword,
        ) => return PasswordProblem::TooCommon,
        Some(
            Warning::StraightRowsOfKeysAreEasyToGuess
            | Warning::ShortKeyboardPatternsAreEasyToGuess,
        ) => "That password follows keys that sit next to each other, so it is easy to guess.",
        Some(Warning::RepeatsLikeAaaAreEasyToGuess) => {
            "That password repeats the same character, so it is easy to guess."
        }
        Some(Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess) => {
            "That password repeats the same few characters, so it is easy to guess."
        }
        Some(Warning::SequencesLikeAbcAreEasyToGuess) => {
            "That password contains a run like abc or 1234, so it is easy to guess."
        }
        Some(Warning::RecentYearsAreEasyToGuess) => {
            "That password relies on a recent year, so it is easy to guess."
        }
        Some(Warning::DatesAreOftenEasyToGuess) => {
            "That password relies on a date, so it is easy to guess."
        }
        Some(Warning::AWordByItselfIsEasyToGuess) => {
            "That password is a single everyday word, so it is easy to guess."
        }
        Some(
            Warning::NamesAndSurnamesByThemselvesAreEasyToGuess
            | Warning::CommonNamesAndSurnamesAreEasyToGuess,
        ) => "That password relies on a common name, so it is easy to guess.",
        None if suggestions.contains(&Suggestion::PredictableSubstitutionsDontHelpVeryMuch) => {
            "Swapping letters for look-alike numbers or symbols does not make a password much \
             harder to guess."
        }
        None if suggestions.contains(&Suggestion::ReversedWordsArentMuchHarderToGuess) => {
            "Spelling words backwards does not make a password much harder to guess."
        }
        None => "That password would still be fairly easy to guess.",
    };
    PasswordProblem::TooGuessable { reason }
}

/// Lower-cased pieces of the person's details that should not be in their password:
/// each whole input and each pair of neighbouring words without spaces or punctuation
/// (so "Dr Ana Lee" gives "analee"), the local part of an e-mail address rather than
/// its domain, and each word.
fn personal_parts(user_inputs: &[&str]) -> Vec<String> {
    let mut parts = Vec::new();
    for input in user_inputs {
        let lower = truncate(input, SCORED_CHARS).trim().to_lowercase();
        let source = lower
            .split_once('@')
            .map_or(lower.as_str(), |(local, _)| local);
        let words: Vec<&str> = source
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        parts.push(words.concat());
        parts.extend(words.windows(2).map(|pair| pair.concat()));
        parts.extend(words.iter().map(|w| (*w).to_owned()));
    }
    parts.retain(|p| !p.is_empty());
    parts.sort();
    parts.dedup();
    parts
}

fn alphanumeric(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The first `chars` characters of `s`.
fn truncate(s: &str, chars: usize) -> &str {
    s.char_indices().nth(chars).map_or(s, |(i, _)| &s[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: [&str; 3] = ["Dr Ana Lee", "ana.lee@example.org", "Riverside Practice"];

    #[test]
    fn common_passwords_are_refused() {
        for pw in [
            "password1234",
            "qwertyuiop123",
            "123456789012",
            "iloveyou1234",
        ] {
            let err = check(pw, &[]).unwrap_err();
            assert!(
                matches!(
                    err,
                    PasswordProblem::TooCommon | PasswordProblem::TooGuessable { .. }
                ),
                "{pw}: {err:?}"
            );
            assert!(
                err.to_string()
                    .ends_with("Try three or four unrelated words.")
            );
        }
        assert_eq!(check("password1234", &[]), Err(PasswordProblem::TooCommon));
    }

    #[test]
    fn passphrases_are_accepted() {
        for pw in [
            "correct horse battery staple",
            "purple tractor umbrella orchid",
            "kettle lighthouse mango velvet",
            "Rosa pflückt blaue Äpfel im Mondschein",
        ] {
            assert_eq!(check(pw, &ANA), Ok(()), "{pw}");
        }
    }

    #[test]
    fn length_limits() {
        assert_eq!(check("kettle mang", &[]), Err(PasswordProblem::TooShort));
        assert_eq!(check("", &[]), Err(PasswordProblem::TooShort));
        // 11 characters but 33 bytes: characters are what count.
        assert_eq!(check(&"水".repeat(11), &[]), Err(PasswordProblem::TooShort));
        assert_eq!(check(&"a".repeat(1025), &[]), Err(PasswordProblem::TooLong));
        assert_eq!(check(&"é".repeat(513), &[]), Err(PasswordProblem::TooLong));
    }

    #[test]
    fn long_input_is_scored_quickly() {
        // zxcvbn only sees the first 100 characters; this must simply finish.
        let long: String = "kettle lighthouse mango velvet ".repeat(40);
        let long = truncate(&long, MAX_BYTES);
        assert_eq!(long.len(), MAX_BYTES);
        assert_eq!(check(long, &ANA), Ok(()));
        let r = check(&"a1!".repeat(341), &ANA);
        assert!(r.is_err());
    }

    #[test]
    fn personal_details_are_refused() {
        for pw in [
            "ana lee rocks forever",
            "AnaLee2024!!",
            "Riverside is lovely",
            "my ana.lee mailbox",
            "lee ana lee ana lee",
        ] {
            assert_eq!(
                check(pw, &ANA),
                Err(PasswordProblem::ContainsPersonalInfo),
                "{pw}"
            );
        }
        // The e-mail domain is not personal; short name pieces alone are not refused.
        assert_eq!(check("example kettle lighthouse orchid", &ANA), Ok(()));
        assert_eq!(check("banana kettle lighthouse orchid", &ANA), Ok(()));
    }

    #[test]
    fn messages_are_one_sentence_and_advice() {
        let err = problem(Some(Warning::StraightRowsOfKeysAreEasyToGuess), &[]);
        assert_eq!(
            err.to_string(),
            "That password follows keys that sit next to each other, so it is easy to \
             guess. Try three or four unrelated words."
        );
        assert_eq!(
            PasswordProblem::TooCommon.to_string(),
            "That password is one of the most common ones, or very close to one, so it is \
             easy to guess. Try three or four unrelated words."
        );
        assert!(matches!(
            check("aaaaaaaaaaaaaaaa", &[]),
            Err(PasswordProblem::TooGuessable { reason }) if reason.contains("same character")
        ));
    }
}
