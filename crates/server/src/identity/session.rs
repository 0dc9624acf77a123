//! Server-side sessions.
//!
//! The browser holds 256 random bits in an HttpOnly, SameSite=Lax cookie (`__Host-`
//! prefixed and Secure whenever the site is served over HTTPS); the database holds only
//! the SHA-256 of it, so a copy of the database cannot be used to hijack a session.

use axum::extract::FromRequestParts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};
use sha2::{Digest, Sha256};
use store::accounts::UserRow;
use store::sessions::SessionRow;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Absolute lifetime of a session.
pub const ABSOLUTE_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;

/// How session cookies are written on this deployment.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    pub name: &'static str,
    pub secure: bool,
}

impl CookieSettings {
    /// `__Host-` and `Secure` under HTTPS (TLS here or at a trusted proxy); on plain
    /// loopback HTTP the browser would drop a Secure cookie, so neither is used.
    pub fn for_https(https: bool) -> Self {
        if https {
            Self {
                name: "__Host-tw_session",
                secure: true,
            }
        } else {
            Self {
                name: "tw_session",
                secure: false,
            }
        }
    }

    fn attributes(&self) -> &'static str {
        if self.secure {
            "Path=/; HttpOnly; Secure; SameSite=Lax"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// The `Set-Cookie` value that stores `token`.
    pub fn set(&self, token: &str) -> AppResult<HeaderValue> {
        let max_age = ABSOLUTE_LIFETIME_MS / 1000;
        HeaderValue::from_str(&format!(
            "{}={token}; Max-Age={max_age}; {}",
            self.name,
            self.attributes()
        ))
        .map_err(|_| AppError::internal("session cookie"))
    }

    /// The `Set-Cookie` value that deletes the cookie.
    pub fn clear(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("{}=; Max-Age=0; {}", self.name, self.attributes()))
            .unwrap_or_else(|_| HeaderValue::from_static("tw_session=; Max-Age=0; Path=/"))
    }

    /// The session token presented by the browser, if any.
    pub fn read(&self, headers: &HeaderMap) -> Option<Zeroizing<String>> {
        for value in headers.get_all(header::COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for pair in text.split(';') {
                if let Some((k, v)) = pair.trim().split_once('=')
                    && k == self.name
                    && !v.is_empty()
                    && v.len() <= 64
                {
                    return Some(Zeroizing::new(v.to_owned()));
                }
            }
        }
        None
    }
}

/// A new random session token (what the browser keeps) and its hash (what we keep).
pub fn new_token() -> AppResult<(Zeroizing<String>, String)> {
    let mut raw = Zeroizing::new([0u8; 32]);
    getrandom::fill(raw.as_mut()).map_err(|e| AppError::internal(format!("random: {e}")))?;
    let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(raw.as_ref()));
    let hash = token_hash(&token);
    Ok((token, hash))
}

/// SHA-256 of the token, hex. Tokens carry 256 bits of entropy, so no salt or slow hash
/// is needed, and lookups stay an index probe (no timing side channel on the secret).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session for `user_id` and returns the cookie token.
pub async fn start(state: &AppState, user_id: &str) -> AppResult<Zeroizing<String>> {
    let (token, hash) = new_token()?;
    let now = state.clock.now_ms();
    state
        .db
        .insert_session(&SessionRow {
            id_hash: hash,
            user_id: user_id.to_owned(),
            created_ms: now,
            last_seen_ms: now,
            expires_ms: now + ABSOLUTE_LIFETIME_MS,
            revoked_ms: None,
        })
        .await?;
    Ok(token)
}

/// The signed-in user, when the request carries a live session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: UserRow,
    pub session_hash: String,
}

/// Extracts the signed-in user, or `None`.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = state.cookies.read(&parts.headers) else {
            return Ok(MaybeUser(None));
        };
        let hash = token_hash(&token);
        let found = state.db.live_session(&hash, state.clock.now_ms()).await?;
        Ok(MaybeUser(found.map(|(_, user)| CurrentUser {
            user,
            session_hash: hash,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_stored_hashed() {
        let (token, hash) = new_token().unwrap();
        assert_eq!(token.len(), 43);
        assert_eq!(hash, token_hash(&token));
        assert_ne!(hash, *token);
        let (other, _) = new_token().unwrap();
        assert_ne!(*token, *other);
    }

    #[test]
    fn cookies_are_host_prefixed_and_secure_under_https() {
        let c = CookieSettings::for_https(true);
        let v = c.set("abc").unwrap();
        let v = v.to_str().unwrap();
        assert!(v.starts_with("__Host-tw_session=abc;"), "{v}");
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(v.contains(attr), "{v} lacks {attr}");
        }
        assert!(
            !CookieSettings::for_https(false)
                .set("abc")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }

    #[test]
    fn reads_only_its_own_cookie() {
        let c = CookieSettings::for_https(false);
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; tw_session=tok; b=2".parse().unwrap());
        assert_eq!(c.read(&h).as_deref().map(String::as_str), Some("tok"));
        h.insert(header::COOKIE, "tw_sessionx=tok".parse().unwrap());
        assert!(c.read(&h).is_none());
    }
}
