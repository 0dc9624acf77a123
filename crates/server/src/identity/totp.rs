//! Time-based one-time passwords (RFC 6238) as a second factor.
//!
//! Fixed to what every authenticator app supports: HMAC-SHA-1, 30-second steps and
//! 6 digits. A code is accepted for the step before, the current step and the step
//! after (RFC 6238 §5.2 allows for clock drift and typing time), and each step is
//! accepted at most once: the caller stores the step [`verify`] returns and passes it
//! back next time, so a code seen over someone's shoulder cannot be replayed. Time is
//! always passed in; nothing here reads the system clock.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Bytes of a new secret: 160 bits, as RFC 4226 §4 recommends.
pub const SECRET_BYTES: usize = 20;
/// Fewest secret bytes accepted: RFC 4226 §4 requires at least 128 bits.
pub const MIN_SECRET_BYTES: usize = 16;

/// Why a TOTP operation failed. Messages are shown to the person signing in.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TotpError {
    #[error("Enter the 6-digit code shown in your authenticator app.")]
    Malformed,
    #[error("That code is not right. Check the code in your app and try again.")]
    Wrong,
    #[error("That code has already been used. Wait for the next one.")]
    Replayed,
    #[error("This authenticator set-up is damaged. Please set up your app again.")]
    SecretTooShort,
    #[error("We could not create a secure set-up code just now. Please try again.")]
    Random,
}

/// The secret shared with the person's authenticator app. Wiped from memory on drop;
/// `Debug` never shows it.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    /// A fresh 160-bit secret from the operating system's random source.
    pub fn generate() -> Result<Self, TotpError> {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        getrandom::fill(bytes.as_mut_slice()).map_err(|_| TotpError::Random)?;
        Ok(Self(bytes))
    }

    /// A stored secret (`Vec<u8>`, or `Zeroizing<Vec<u8>>` without a copy). [`verify`]
    /// refuses one under RFC 4226's 128 bits: a damaged secret fails closed.
    pub fn from_bytes(bytes: impl Into<Zeroizing<Vec<u8>>>) -> Self {
        Self(bytes.into())
    }

    /// The raw secret, for storing it (sealed) in the database.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32 without padding, the form authenticator apps expect when the
    /// secret is typed in by hand. Wiped on drop like the secret itself.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(self.totp().secret().to_base32())
    }

    /// A generator for this secret; its copy is wiped on drop (totp-rs's `zeroize`).
    fn totp(&self) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_step_duration(STEP_SECS as u64)
            .with_skew(0)
            .with_secret(Secret::from(self.0.to_vec()))
            // Parameters fixed above; `verify` checks the length. No panics either way.
            .build_noncompliant()
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

/// The `otpauth://` URI that authenticator apps scan from a QR code. Every parameter
/// is spelled out, as some apps misread defaults left implicit. Issuer and account are
/// percent-encoded UTF-8; a colon in either becomes a space, since the Key URI format
/// reserves `:` and `%3A` as the label separator and apps would split there. The
/// issuer is written the same in label and parameter, as the format asks.
pub fn provisioning_uri(secret: &TotpSecret, issuer: &str, account: &str) -> String {
    let (issuer, account) = (label_part(issuer), label_part(account));
    let secret = secret.to_base32();
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        secret.as_str()
    )
}

/// The code for the step containing `unix_secs` (6 digits, zero-padded). Times before
/// 1970 have no RFC 6238 counter and are treated as step 0.
#[cfg(test)]
pub fn code_at(secret: &TotpSecret, unix_secs: i64) -> String {
    let step = u64::try_from(unix_secs.div_euclid(STEP_SECS)).unwrap_or(0);
    code_for_step(&secret.totp(), step)
}

/// Checks a typed code against the steps around `now_unix_secs` and returns the step
/// it matched, which the caller must store and pass back as `last_used_step`.
///
/// Spaces and dashes are ignored ("123 456" is fine); anything else that is not six
/// ASCII digits is [`TotpError::Malformed`]. Every candidate step is compared in
/// constant time, and a step at or before `last_used_step` is refused as
/// [`TotpError::Replayed`], so each code works once and an older code stops working
/// once a newer one has been used.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    now_unix_secs: i64,
    last_used_step: Option<i64>,
) -> Result<i64, TotpError> {
    let typed = normalise(code).ok_or(TotpError::Malformed)?;
    if secret.0.len() < MIN_SECRET_BYTES {
        return Err(TotpError::SecretTooShort);
    }
    let totp = secret.totp();
    let now = now_unix_secs.div_euclid(STEP_SECS);
    let matched: Vec<i64> = [now - 1, now, now + 1]
        .into_iter()
        .filter(|&step| is_code_for(&totp, step, &typed))
        .collect();
    if matched.is_empty() {
        return Err(TotpError::Wrong);
    }
    let unused = |step: &i64| last_used_step.is_none_or(|last| *step > last);
    matched.into_iter().find(unused).ok_or(TotpError::Replayed)
}

fn code_for_step(totp: &Totp, step: u64) -> String {
    let time = step.saturating_mul(STEP_SECS as u64);
    totp.generate(time).to_string()
}

/// Whether `typed` is the code for `step`, compared in constant time. Steps before
/// 1970 do not exist: the RFC counter is unsigned.
fn is_code_for(totp: &Totp, step: i64, typed: &str) -> bool {
    u64::try_from(step).is_ok_and(|counter| {
        let expected = code_for_step(totp, counter);
        bool::from(expected.as_bytes().ct_eq(typed.as_bytes()))
    })
}

/// Six ASCII digits with spaces and dashes removed, or `None`.
fn normalise(code: &str) -> Option<String> {
    let digits: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .take(DIGITS + 1)
        .collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Issuer or account for the label, percent-encoded as UTF-8 (RFC 3986: only
/// unreserved characters stay as they are). Colons and control characters become
/// spaces; runs of spaces collapse.
fn label_part(raw: &str) -> String {
    let words: Vec<&str> = raw
        .split(|c: char| c == ':' || c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = String::new();
    for b in words.join(" ").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    /// RFC 6238 Appendix B, SHA-1: time and 8-digit code (ours are its last six digits).
    #[rustfmt::skip]
    const RFC_VECTORS: [(i64, &str); 6] = [
        (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
        (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130"),
    ];

    fn v(code: &str, now: i64, last: Option<i64>) -> Result<i64, TotpError> {
        verify(&rfc(), code, now, last)
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        for (t, eight) in RFC_VECTORS {
            assert_eq!(code_at(&rfc(), t), eight[2..], "t = {t}");
            assert_eq!(v(&eight[2..], t, None), Ok(t / 30));
        }
    }

    #[test]
    fn secrets_are_random_checked_and_redacted() {
        let a = TotpSecret::generate().unwrap();
        assert_eq!(a.as_bytes().len(), SECRET_BYTES);
        assert_ne!(a.as_bytes(), TotpSecret::generate().unwrap().as_bytes());
        assert_eq!(format!("{a:?}"), "TotpSecret(..)");
        let short = TotpSecret::from_bytes(Zeroizing::new(vec![0; 15]));
        assert_eq!(
            verify(&short, "123456", 59, None),
            Err(TotpError::SecretTooShort)
        );
        // RFC 4648 base32, no padding even where the length would need it.
        let b32 = rfc().to_base32();
        assert_eq!(b32.as_str(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let odd = TotpSecret::from_bytes(vec![0xff; 16]).to_base32();
        assert_eq!(odd.as_str(), format!("{}4", "7".repeat(25)));
    }

    #[test]
    fn window_is_one_step_either_side() {
        let now = 1_700_000_015;
        for d in [-1, 0, 1] {
            let code = code_at(&rfc(), now + d * 30);
            assert_eq!(v(&code, now, None), Ok(now / 30 + d));
        }
        for d in [-2, 2] {
            let code = code_at(&rfc(), now + d * 30);
            assert_eq!(v(&code, now, None), Err(TotpError::Wrong));
        }
        // Extreme times neither panic nor invent steps before 1970.
        assert_eq!(code_at(&rfc(), -100), code_at(&rfc(), 0));
        assert_eq!(v(&code_at(&rfc(), 0), -1, None), Ok(0));
        assert!(v("000000", i64::MIN, None).is_err());
        assert!(v("000000", i64::MAX, None).is_err());
    }

    #[test]
    fn each_step_is_accepted_once() {
        let now = 1_700_000_015;
        let code = code_at(&rfc(), now);
        let next = code_at(&rfc(), now + 30);
        let step = v(&code, now, None).unwrap();
        assert_eq!(v(&code, now, Some(step)), Err(TotpError::Replayed));
        assert_eq!(v(&code, now + 20, Some(step)), Err(TotpError::Replayed));
        // A newer code was used first (phone clock ahead): the older one is refused.
        let newer = v(&next, now, None).unwrap();
        assert_eq!(v(&code, now, Some(newer)), Err(TotpError::Replayed));
        assert_eq!(v(&next, now + 30, Some(step)), Ok(step + 1));
    }

    #[test]
    fn malformed_codes_are_refused_and_separators_ignored() {
        for bad in ["", "12345", "1234567", "12a456", "+12345", "12_456"] {
            assert_eq!(v(bad, 59, None), Err(TotpError::Malformed), "{bad:?}");
        }
        // Full-width digits look like digits but are not ASCII.
        assert_eq!(v("１２３４５６", 59, None), Err(TotpError::Malformed));
        assert_eq!(v(&"1".repeat(10_000), 59, None), Err(TotpError::Malformed));
        assert_eq!(code_at(&rfc(), 59), "287082");
        for typed in ["287 082", "287-082", " 287082 ", "2-8-7 0 8 2"] {
            assert_eq!(v(typed, 59, None), Ok(1), "{typed:?}");
        }
    }

    #[test]
    fn provisioning_uri_is_encoded_and_parses_back() {
        let uri = provisioning_uri(&rfc(), "Telewarden", "Dr Ana Lee <ana@x.org>");
        assert_eq!(
            uri,
            "otpauth://totp/Telewarden:Dr%20Ana%20Lee%20%3Cana%40x.org%3E\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Telewarden\
             &algorithm=SHA1&digits=6&period=30"
        );
        let parsed = Totp::from_url(&uri).unwrap();
        assert_eq!(parsed.account_name(), "Dr Ana Lee <ana@x.org>");
        assert_eq!(parsed.issuer(), Some("Telewarden"));
        assert_eq!(parsed.secret().as_bytes(), rfc().as_bytes());
        let params = (parsed.digits(), parsed.step(), parsed.algorithm());
        assert_eq!(params, (6, 30, Algorithm::SHA1));
        assert_eq!(parsed.generate(59).to_string(), code_at(&rfc(), 59));

        // Colons would split the label; non-ASCII is UTF-8 percent-encoded.
        let uri = provisioning_uri(&rfc(), "Clinique: Saint-Étienne", "zoë:o'brien@x.org");
        let label = "Clinique%20Saint-%C3%89tienne:zo%C3%AB%20o%27brien%40x.org?";
        assert!(uri.starts_with(&format!("otpauth://totp/{label}")), "{uri}");
        assert!(uri.contains("&issuer=Clinique%20Saint-%C3%89tienne&"));
        let parsed = Totp::from_url(&uri).unwrap();
        assert_eq!(parsed.issuer(), Some("Clinique Saint-Étienne"));
        assert_eq!(parsed.account_name(), "zoë o'brien@x.org");
    }
}
