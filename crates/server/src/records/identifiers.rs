//! Australian patient identifiers, checked before anything is stored:
//! - the **Individual Healthcare Identifier** (IHI): 16 digits, starting `800360`, with a
//!   Luhn check digit last;
//! - the **Medicare card number**: 10 digits — an 8-digit identifier whose first digit is
//!   2 to 6, a check digit, and the card's issue number — optionally followed by the
//!   person's individual reference number (IRN, 1 to 9) on the card.
//!
//! People type these with spaces (as printed: `2123 45670 1`) or hyphens; both are
//! accepted and dropped. Anything else gets an error that says what is wrong, so the
//! person can fix it; nothing malformed is stored.

use std::fmt;

/// FHIR `Identifier.system` of the IHI.
pub const IHI_SYSTEM: &str = "http://ns.electronichealth.net.au/id/hi/ihi/1.0";
/// FHIR `Identifier.system` of the Medicare card number.
pub const MEDICARE_SYSTEM: &str = "http://ns.electronichealth.net.au/id/medicare-number";

/// Why an identifier was refused, in words a receptionist can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("An IHI has 16 digits.")]
    IhiLength,
    #[error("An individual's IHI starts with 800360.")]
    IhiPrefix,
    #[error(
        "That IHI's last digit does not match the others: please check it was typed correctly."
    )]
    IhiCheckDigit,
    #[error(
        "A Medicare card number has 10 digits, and the person's number on the card (1 to 9) may follow."
    )]
    MedicareLength,
    #[error("A Medicare card number starts with a digit from 2 to 6.")]
    MedicareFirstDigit,
    #[error(
        "That Medicare number's ninth digit does not match the others: please check it was typed correctly."
    )]
    MedicareCheckDigit,
    #[error("The Medicare card's issue number (the tenth digit) cannot be 0.")]
    MedicareIssueNumber,
    #[error("The person's number on a Medicare card is 1 to 9.")]
    MedicareIrn,
    #[error("Only digits, spaces and hyphens can be in this number.")]
    NotDigits,
}

/// An Individual Healthcare Identifier that passed every check.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ihi(String);

/// A Medicare card number that passed every check, with the person's IRN if given.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MedicareNumber {
    card: String,
    irn: Option<u8>,
}

/// The digits of `input`, without the spaces and hyphens people type.
fn digits(input: &str) -> Result<Vec<u8>, IdentifierError> {
    input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| {
            c.to_digit(10)
                .and_then(|d| u8::try_from(d).ok())
                .ok_or(IdentifierError::NotDigits)
        })
        .collect()
}

/// Whether `digits` (check digit last) pass the Luhn check.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

impl Ihi {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let d = digits(input)?;
        if d.len() != 16 {
            return Err(IdentifierError::IhiLength);
        }
        if d[..6] != [8, 0, 0, 3, 6, 0] {
            return Err(IdentifierError::IhiPrefix);
        }
        if !luhn(&d) {
            return Err(IdentifierError::IhiCheckDigit);
        }
        Ok(Self(text(&d)))
    }

    /// The 16 digits, without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl MedicareNumber {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let d = digits(input)?;
        let (card, irn) = match d.len() {
            10 => (&d[..], None),
            11 => (&d[..10], Some(d[10])),
            _ => return Err(IdentifierError::MedicareLength),
        };
        if !(2..=6).contains(&card[0]) {
            return Err(IdentifierError::MedicareFirstDigit);
        }
        const WEIGHTS: [u32; 8] = [1, 3, 7, 9, 1, 3, 7, 9];
        let sum: u32 = card[..8]
            .iter()
            .zip(WEIGHTS)
            .map(|(&digit, weight)| u32::from(digit) * weight)
            .sum();
        if sum % 10 != u32::from(card[8]) {
            return Err(IdentifierError::MedicareCheckDigit);
        }
        if card[9] == 0 {
            return Err(IdentifierError::MedicareIssueNumber);
        }
        if irn == Some(0) {
            return Err(IdentifierError::MedicareIrn);
        }
        Ok(Self {
            card: text(card),
            irn,
        })
    }

    /// The card's 10 digits, without spaces.
    pub fn card(&self) -> &str {
        &self.card
    }

    /// The person's individual reference number on the card, if given.
    pub fn irn(&self) -> Option<u8> {
        self.irn
    }
}

// Identifiers are personal information: debug output shows only that one is there.
impl fmt::Debug for Ihi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ihi(…)")
    }
}

impl fmt::Debug for MedicareNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MedicareNumber(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ihis_are_accepted_as_typed() {
        for typed in [
            "8003608166690503",
            "8003 6081 6669 0503",
            "8003-6080-0000-0570",
        ] {
            let ihi = Ihi::parse(typed).unwrap();
            assert_eq!(ihi.as_str().len(), 16);
            assert!(ihi.as_str().starts_with("800360"));
        }
        assert_eq!(
            Ihi::parse("8003 6081 6669 0503").unwrap().as_str(),
            "8003608166690503"
        );
    }

    #[test]
    fn malformed_ihis_say_what_is_wrong() {
        let cases = [
            ("800360816669050", IdentifierError::IhiLength),
            ("80036081666905031", IdentifierError::IhiLength),
            ("", IdentifierError::IhiLength),
            ("8003618166690503", IdentifierError::IhiPrefix),
            ("8003608166690504", IdentifierError::IhiCheckDigit),
            // Two neighbouring digits swapped: Luhn catches it.
            ("8003608166690530", IdentifierError::IhiCheckDigit),
            ("8003608166690503'--", IdentifierError::NotDigits),
            (
                "８００３６０８１６６６９０５０３",
                IdentifierError::NotDigits,
            ),
        ];
        for (typed, why) in cases {
            assert_eq!(Ihi::parse(typed), Err(why), "{typed:?}");
        }
    }

    #[test]
    fn every_single_digit_error_in_an_ihi_is_caught() {
        let good = "8003608166690503";
        for at in 6..16 {
            for replacement in b'0'..=b'9' {
                let mut bytes = good.as_bytes().to_vec();
                if bytes[at] == replacement {
                    continue;
                }
                bytes[at] = replacement;
                let typo = String::from_utf8(bytes).unwrap();
                assert_eq!(
                    Ihi::parse(&typo),
                    Err(IdentifierError::IhiCheckDigit),
                    "{typo}"
                );
            }
        }
    }

    #[test]
    fn valid_medicare_numbers_are_accepted_with_or_without_the_irn() {
        let card = MedicareNumber::parse("2123 45670 1").unwrap();
        assert_eq!((card.card(), card.irn()), ("2123456701", None));
        let person = MedicareNumber::parse("2123-45670-1-3").unwrap();
        assert_eq!((person.card(), person.irn()), ("2123456701", Some(3)));
        // 6·1 + 1·9 = 15: check digit 5, issue number 2.
        assert!(MedicareNumber::parse("6000000152").is_ok());
    }

    #[test]
    fn malformed_medicare_numbers_say_what_is_wrong() {
        let cases = [
            ("212345670", IdentifierError::MedicareLength),
            ("212345670123", IdentifierError::MedicareLength),
            ("1123456701", IdentifierError::MedicareFirstDigit),
            ("7123456701", IdentifierError::MedicareFirstDigit),
            ("2123456711", IdentifierError::MedicareCheckDigit),
            ("2123456700", IdentifierError::MedicareIssueNumber),
            ("21234567010", IdentifierError::MedicareIrn),
            ("2123456701; DROP TABLE", IdentifierError::NotDigits),
        ];
        for (typed, why) in cases {
            assert_eq!(MedicareNumber::parse(typed), Err(why), "{typed:?}");
        }
    }

    #[test]
    fn debug_output_holds_no_identifier() {
        let ihi = Ihi::parse("8003608166690503").unwrap();
        let card = MedicareNumber::parse("2123456701").unwrap();
        assert!(!format!("{ihi:?}{card:?}").contains("800360"));
        assert!(!format!("{card:?}").contains("2123"));
    }
}
