//! Server-side sessions.
//!
//! The browser holds 256 random bits in an HttpOnly, SameSite=Lax cookie (`__Host-`
//! prefixed and Secure whenever the site is served over HTTPS); the database holds only
//! the SHA-256 of it, so a copy of the database cannot be used to hijack a session.
//! A session ends when revoked, after its absolute lifetime, or after its idle timeout
//! (shorter for staff). Every sign-in makes a new session id; step-up records a fresh
//! authentication time for sensitive actions.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};
use proto::ErrorCode;
use sha2::{Digest, Sha256};
use store::accounts::UserRow;
use store::sessions::SessionRow;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::state::AppState;

/// Activity is written at most this often, to keep reads cheap.
const TOUCH_EVERY_MS: i64 = 30_000;
/// The step-up window while the sentinel sees risk.
const RISKY_STEP_UP_MS: i64 = 60_000;
/// How long the browser keeps the device cookie (the browser caps it near 400 days).
const DEVICE_COOKIE_SECS: i64 = 400 * 24 * 60 * 60;

/// How session cookies are written on this deployment.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    pub secure: bool,
}

impl CookieSettings {
    /// `__Host-` and `Secure` under HTTPS (TLS here or at a trusted proxy); on plain
    /// loopback HTTP the browser would drop a Secure cookie, so neither is used.
    pub fn for_https(https: bool) -> Self {
        Self { secure: https }
    }

    /// The full cookie name for `base` (`tw_session`, `tw_device`, `tw_pending`).
    pub fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    fn attributes(&self) -> &'static str {
        if self.secure {
            "Path=/; HttpOnly; Secure; SameSite=Lax"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// A `Set-Cookie` value storing `value` for `max_age_secs` (a session cookie when None).
    pub fn set(
        &self,
        base: &str,
        value: &str,
        max_age_secs: Option<i64>,
    ) -> AppResult<HeaderValue> {
        let age = max_age_secs
            .map(|s| format!("; Max-Age={s}"))
            .unwrap_or_default();
        HeaderValue::from_str(&format!(
            "{}={value}{age}; {}",
            self.name(base),
            self.attributes()
        ))
        .map_err(|_| AppError::internal("cookie value"))
    }

    /// The `Set-Cookie` value that deletes the cookie.
    pub fn clear(&self, base: &str) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "{}=; Max-Age=0; {}",
            self.name(base),
            self.attributes()
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("tw_session=; Max-Age=0; Path=/"))
    }

    /// The value of cookie `base` presented by the browser, if any.
    pub fn read(&self, headers: &HeaderMap, base: &str) -> Option<Zeroizing<String>> {
        let name = self.name(base);
        for value in headers.get_all(header::COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for pair in text.split(';') {
                if let Some((k, v)) = pair.trim().split_once('=')
                    && k == name
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

/// A new random token (what the browser keeps) and its hash (what we keep).
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

/// How someone proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Passkey,
    Password,
    PasswordTotp,
    RecoveryCode,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Passkey => "passkey",
            Method::Password => "password",
            Method::PasswordTotp => "password+totp",
            Method::RecoveryCode => "recovery_code",
        }
    }

    pub fn label(s: &str) -> &'static str {
        match s {
            "passkey" => "Passkey",
            "password" => "Password",
            "password+totp" => "Password and code",
            "recovery_code" => "Recovery code",
            _ => "Unknown",
        }
    }
}

/// A started session: the cookie token, and whether the browser is new to this account.
#[derive(Debug)]
pub struct Started {
    pub token: Zeroizing<String>,
    pub new_device: bool,
    /// A device cookie to set, when the browser had none.
    pub device_token: Option<Zeroizing<String>>,
}

/// Starts a session for `user`. `mfa_pending` limits it to enrolling a second factor.
pub async fn start(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    user: &UserRow,
    method: Method,
    mfa_pending: bool,
) -> AppResult<Started> {
    let (token, hash) = new_token()?;
    // A new sign-in replaces whatever session this browser had: never two at once, and
    // a session id planted before sign-in is worth nothing after it.
    if let Some(old) = state.cookies.read(headers, "tw_session") {
        state
            .db
            .revoke_session(&token_hash(&old), state.clock.now_ms())
            .await?;
    }
    let (device_token, device_hash) = match state.cookies.read(headers, "tw_device") {
        Some(t) => (None, token_hash(&t)),
        None => {
            let (t, h) = new_token()?;
            (Some(t), h)
        }
    };
    let now = state.clock.now_ms();
    let s = &state.config.sessions;
    let idle_minutes = match Role::parse(&user.role) {
        Some(Role::Patient) => s.patient_idle_minutes,
        _ => s.staff_idle_minutes,
    };
    state
        .db
        .insert_session(&SessionRow {
            id_hash: hash,
            user_id: user.id.clone(),
            created_ms: now,
            last_seen_ms: now,
            expires_ms: now + i64::from(s.absolute_hours) * 3_600_000,
            revoked_ms: None,
            authenticated_ms: now,
            method: method.as_str().to_owned(),
            idle_timeout_ms: i64::from(idle_minutes) * 60_000,
            device_hash: device_hash.clone(),
            user_agent: describe_user_agent(headers),
            source: meta.client_ip.to_string(),
            mfa_pending,
        })
        .await?;
    let had_devices = state.db.has_known_devices(&user.id).await?;
    let new_device = state.db.see_device(&user.id, &device_hash, now).await? && had_devices;
    Ok(Started {
        token,
        new_device,
        device_token,
    })
}

/// The `Set-Cookie` headers for a started session.
pub fn cookies_for(
    state: &AppState,
    started: &Started,
) -> AppResult<Vec<(header::HeaderName, HeaderValue)>> {
    let mut out = vec![(
        header::SET_COOKIE,
        state.cookies.set("tw_session", &started.token, None)?,
    )];
    if let Some(device) = &started.device_token {
        out.push((
            header::SET_COOKIE,
            state
                .cookies
                .set("tw_device", device, Some(DEVICE_COOKIE_SECS))?,
        ));
    }
    Ok(out)
}

/// "Firefox on Linux" — enough for a person to recognise their own sessions.
pub fn describe_user_agent(headers: &HeaderMap) -> String {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "A browser"
    };
    let os = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iPhone or iPad"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") {
        "a Mac"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "an unknown system"
    };
    format!("{browser} on {os}")
}

/// The signed-in person and their session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: UserRow,
    pub session: SessionRow,
    /// The session as the sentinel knows it (a keyed hash of the cookie), for asking
    /// how risky it is.
    pub sentinel_session: sentinel::SessionKey,
    /// Where this request came from (for the same question).
    pub client_ip: std::net::IpAddr,
}

impl CurrentUser {
    pub fn role(&self) -> Role {
        Role::parse(&self.user.role).unwrap_or(Role::Patient)
    }

    /// Whether they proved who they are within the step-up window. When the sentinel
    /// sees risk in this session, account or address, the window shrinks to a minute:
    /// the second step is asked for again before anything sensitive (risk-adaptive
    /// authentication; without risk, nobody is asked twice).
    pub fn recently_authenticated(&self, state: &AppState) -> bool {
        let usual = i64::from(state.config.sessions.step_up_seconds) * 1000;
        let risky =
            crate::security::events::wants_step_up(&state.sentinel.assess(&sentinel::Subject {
                source: self.client_ip,
                account: Some(self.user.id.clone()),
                session: Some(self.sentinel_session),
            }));
        let window = if risky {
            usual.min(RISKY_STEP_UP_MS)
        } else {
            usual
        };
        state.clock.now_ms() - self.session.authenticated_ms <= window
    }

    /// Refuses unless the step-up window is open.
    pub fn require_recent(&self, state: &AppState) -> AppResult<()> {
        if self.recently_authenticated(state) {
            Ok(())
        } else {
            Err(AppError::client(
                ErrorCode::StepUpRequired,
                "This is a sensitive change, so please confirm it is you first.",
            ))
        }
    }
}

async fn current(parts: &Parts, state: &AppState) -> AppResult<Option<CurrentUser>> {
    let Some(token) = state.cookies.read(&parts.headers, "tw_session") else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let now = state.clock.now_ms();
    let Some((session, user)) = state.db.live_session(&state.keyring, &hash, now).await? else {
        return Ok(None);
    };
    // An account the sentinel holds for review has no live session until released.
    if state.sentinel.is_held(&user.id) {
        return Ok(None);
    }
    if now - session.last_seen_ms >= TOUCH_EVERY_MS {
        state.db.touch_session(&hash, now).await?;
    }
    // Tell the sentinel whose request this is (its layer put the slot there).
    if let Some(slot) = parts.extensions.get::<sentinel::IdentitySlot>() {
        slot.set(&user.id, Some(&token));
    }
    let sentinel_session = state.sentinel.session_key(&token);
    let client_ip = parts
        .extensions
        .get::<RequestMeta>()
        .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |m| m.client_ip);
    Ok(Some(CurrentUser {
        user,
        session,
        sentinel_session,
        client_ip,
    }))
}

/// The session's user, or `None`. A session limited to enrolling a second factor is
/// returned too (`session.mfa_pending`): callers that show anything must check it, or
/// use [`SignedIn`], which refuses such sessions.
#[derive(Debug)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(current(parts, state).await?))
    }
}

/// A signed-in user with every required factor. Browsers without one are sent to the
/// sign-in page (or, with one factor of a required two, to second-factor enrolment);
/// other clients get `401 sign-in-required`.
#[derive(Debug)]
pub struct SignedIn(pub CurrentUser);

/// A signed-in user whose session may still be waiting for a second factor to be set
/// up: for the enrolment pages themselves.
#[derive(Debug)]
pub struct SignedInAnyFactor(pub CurrentUser);

pub enum NotSignedIn {
    Error(AppError),
    Redirect(&'static str),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Error(e) => e.into_response(),
            NotSignedIn::Redirect(to) => Redirect::to(to).into_response(),
        }
    }
}

fn wants_html(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn sign_in_required() -> AppError {
    AppError::client(ErrorCode::SignInRequired, "Please sign in first.")
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match current(parts, state).await.map_err(NotSignedIn::Error)? {
            Some(c) if !c.session.mfa_pending => Ok(SignedIn(c)),
            Some(_) if wants_html(parts) => Err(NotSignedIn::Redirect("/account/second-factor")),
            Some(_) => Err(NotSignedIn::Error(AppError::client(
                ErrorCode::SecondFactorRequired,
                "Please set up a second step to prove it is you first.",
            ))),
            None if wants_html(parts) && parts.method == http::Method::GET => {
                Err(NotSignedIn::Redirect("/sign-in"))
            }
            None => Err(NotSignedIn::Error(sign_in_required())),
        }
    }
}

impl FromRequestParts<AppState> for SignedInAnyFactor {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match current(parts, state).await.map_err(NotSignedIn::Error)? {
            Some(c) => Ok(SignedInAnyFactor(c)),
            None if wants_html(parts) && parts.method == http::Method::GET => {
                Err(NotSignedIn::Redirect("/sign-in"))
            }
            None => Err(NotSignedIn::Error(sign_in_required())),
        }
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
        let v = c.set("tw_session", "abc", None).unwrap();
        let v = v.to_str().unwrap();
        assert!(v.starts_with("__Host-tw_session=abc;"), "{v}");
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(v.contains(attr), "{v} lacks {attr}");
        }
        let plain = CookieSettings::for_https(false)
            .set("tw_session", "abc", None)
            .unwrap();
        assert!(!plain.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn reads_only_its_own_cookie() {
        let c = CookieSettings::for_https(false);
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; tw_session=tok; b=2".parse().unwrap());
        assert_eq!(
            c.read(&h, "tw_session").as_deref().map(String::as_str),
            Some("tok")
        );
        assert!(c.read(&h, "tw_device").is_none());
        h.insert(header::COOKIE, "tw_sessionx=tok".parse().unwrap());
        assert!(c.read(&h, "tw_session").is_none());
    }

    #[test]
    fn user_agents_are_summarised() {
        let mut h = HeaderMap::new();
        h.insert(
            header::USER_AGENT,
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"
                .parse()
                .unwrap(),
        );
        assert_eq!(describe_user_agent(&h), "Chrome on Linux");
        assert_eq!(
            describe_user_agent(&HeaderMap::new()),
            "A browser on an unknown system"
        );
    }
}
