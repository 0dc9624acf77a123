//! Passkeys (WebAuthn) through webauthn-rs.
//!
//! Every ceremony asks for user verification, so a passkey sign-in is two factors in
//! one (something you have, unlocked by something you know or are). Registration asks
//! the authenticator for a discoverable credential, so people sign in without typing a
//! name. Ceremony state is kept server-side (the database), used once, for 5 minutes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proto::ErrorCode;
use serde_json::Value;
use store::accounts::UserRow;
use store::ceremonies::CeremonyRow;
use store::credentials::PasskeyRow;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

const CEREMONY_MS: i64 = 5 * 60 * 1000;

/// The relying party: this deployment, identified by its public origin's host.
pub struct Passkeys {
    webauthn: Webauthn,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passkeys")
    }
}

fn refused(message: &'static str) -> AppError {
    AppError::client(ErrorCode::PasskeyRefused, message)
}

impl Passkeys {
    /// `origin` is the public origin (`https://host[:port]`); its host is the RP id.
    pub fn new(origin: &str, rp_name: &str) -> Result<Self, String> {
        let url = Url::parse(origin).map_err(|e| format!("public origin {origin}: {e}"))?;
        let host = url
            .host_str()
            .ok_or_else(|| format!("public origin {origin} has no host"))?;
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Err(format!(
                "passkeys need a domain name, not the IP address {host}: set public_url (e.g. https://telehealth.example.org)"
            ));
        }
        let webauthn = WebauthnBuilder::new(host, &url)
            .map_err(|e| format!("passkeys for {origin}: {e}"))?
            .rp_name(rp_name)
            .build()
            .map_err(|e| format!("passkeys for {origin}: {e}"))?;
        Ok(Self { webauthn })
    }

    /// Starts registering a new passkey for `user`; returns the ceremony id and the
    /// options for `navigator.credentials.create`.
    pub async fn start_registration(
        &self,
        state: &AppState,
        user: &UserRow,
    ) -> AppResult<(String, Value)> {
        let existing = state.db.passkeys_of_user(&user.id).await?;
        let exclude = existing
            .iter()
            .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey_json).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let (options, registration) = self
            .webauthn
            .start_passkey_registration(
                user_uuid(&user.id)?,
                &user.email,
                &user.display_name,
                Some(exclude),
            )
            .map_err(|e| AppError::internal(format!("webauthn start registration: {e}")))?;
        let mut options = json(&options)?;
        // Ask for a discoverable credential so sign-in needs no user name. (The stored
        // ceremony state does not depend on it.)
        if let Some(sel) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(Value::as_object_mut)
        {
            sel.insert("residentKey".into(), Value::from("required"));
            sel.insert("requireResidentKey".into(), Value::from(true));
        }
        let id = self
            .save(state, "register", Some(&user.id), &registration)
            .await?;
        Ok((id, options))
    }

    /// Checks the browser's answer to a registration; nothing is stored yet.
    pub async fn verify_registration(
        &self,
        state: &AppState,
        user: &UserRow,
        ceremony_id: &str,
        credential: &RegisterPublicKeyCredential,
    ) -> AppResult<Passkey> {
        let registration: PasskeyRegistration = self
            .take(state, ceremony_id, "register", Some(&user.id))
            .await?;
        self.webauthn
            .finish_passkey_registration(credential, &registration)
            .map_err(|e| {
                tracing::info!(error = %e, "passkey registration refused");
                refused("Your device's answer could not be accepted. Please try again.")
            })
    }

    /// Stores a verified passkey under `name`.
    pub async fn store(
        &self,
        state: &AppState,
        user: &UserRow,
        passkey: &Passkey,
        name: &str,
    ) -> AppResult<PasskeyRow> {
        let row = Self::row(state, user, passkey, name)?;
        state
            .db
            .insert_passkey(&row)
            .await
            .map_err(already_registered)?;
        Ok(row)
    }

    /// The row a verified passkey is stored as.
    pub fn row(
        state: &AppState,
        user: &UserRow,
        passkey: &Passkey,
        name: &str,
    ) -> AppResult<PasskeyRow> {
        Ok(PasskeyRow {
            id: crate::setup::new_id()?,
            user_id: user.id.clone(),
            name: name.to_owned(),
            credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id()),
            passkey_json: serde_json::to_string(&passkey)
                .map_err(|e| AppError::internal(e.to_string()))?,
            created_ms: state.clock.now_ms(),
            last_used_ms: None,
        })
    }

    /// Starts a sign-in where the browser offers whichever passkey the person picks.
    pub async fn start_sign_in(&self, state: &AppState) -> AppResult<(String, Value)> {
        let (mut options, auth) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| AppError::internal(format!("webauthn start authentication: {e}")))?;
        // The page chooses between a button (modal) and autofill (conditional).
        options.mediation = None;
        let id = self.save(state, "authenticate", None, &auth).await?;
        Ok((id, json(&options)?))
    }

    /// Verifies a discoverable sign-in; returns the account and the passkey used.
    pub async fn finish_sign_in(
        &self,
        state: &AppState,
        ceremony_id: &str,
        credential: &PublicKeyCredential,
    ) -> AppResult<(UserRow, PasskeyRow)> {
        let auth: DiscoverableAuthentication =
            self.take(state, ceremony_id, "authenticate", None).await?;
        let (user_uuid, cred_id) = self
            .webauthn
            .identify_discoverable_authentication(credential)
            .map_err(|_| refused("That passkey could not be recognised."))?;
        let row = state
            .db
            .passkey_by_credential_id(&URL_SAFE_NO_PAD.encode(cred_id))
            .await?
            .ok_or_else(|| {
                refused("That passkey is not registered here (it may have been removed).")
            })?;
        if user_uuid_of(&row.user_id).ok() != Some(user_uuid) {
            return Err(refused("That passkey could not be recognised."));
        }
        let mut passkey: Passkey = parse_stored(&row.passkey_json)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(credential, auth, &passkey)
            .map_err(|e| {
                tracing::info!(error = %e, "passkey sign-in refused");
                refused("Your device's answer could not be accepted. Please try again.")
            })?;
        self.record_use(state, &row, &mut passkey, &result).await?;
        let user = state
            .db
            .user_by_id(&state.keyring, &row.user_id)
            .await?
            .ok_or_else(|| refused("That passkey could not be recognised."))?;
        Ok((user, row))
    }

    /// Starts re-authenticating a signed-in user with one of their own passkeys.
    pub async fn start_step_up(
        &self,
        state: &AppState,
        user: &UserRow,
    ) -> AppResult<(String, Value)> {
        let passkeys = self.user_passkeys(state, &user.id).await?;
        if passkeys.is_empty() {
            return Err(refused("You have no passkey yet."));
        }
        let keys: Vec<Passkey> = passkeys.into_iter().map(|(_, p)| p).collect();
        let (options, auth) = self
            .webauthn
            .start_passkey_authentication(&keys)
            .map_err(|e| AppError::internal(format!("webauthn start step-up: {e}")))?;
        let id = self.save(state, "step_up", Some(&user.id), &auth).await?;
        Ok((id, json(&options)?))
    }

    pub async fn finish_step_up(
        &self,
        state: &AppState,
        user: &UserRow,
        ceremony_id: &str,
        credential: &PublicKeyCredential,
    ) -> AppResult<()> {
        let auth: PasskeyAuthentication = self
            .take(state, ceremony_id, "step_up", Some(&user.id))
            .await?;
        let result = self
            .webauthn
            .finish_passkey_authentication(credential, &auth)
            .map_err(|e| {
                tracing::info!(error = %e, "passkey step-up refused");
                refused("Your device's answer could not be accepted. Please try again.")
            })?;
        for (row, mut passkey) in self.user_passkeys(state, &user.id).await? {
            if passkey.cred_id() == result.cred_id() {
                self.record_use(state, &row, &mut passkey, &result).await?;
            }
        }
        Ok(())
    }

    async fn user_passkeys(
        &self,
        state: &AppState,
        user_id: &str,
    ) -> AppResult<Vec<(PasskeyRow, Passkey)>> {
        state
            .db
            .passkeys_of_user(user_id)
            .await?
            .into_iter()
            .map(|row| parse_stored(&row.passkey_json).map(|p| (row, p)))
            .collect()
    }

    async fn record_use(
        &self,
        state: &AppState,
        row: &PasskeyRow,
        passkey: &mut Passkey,
        result: &webauthn_rs::prelude::AuthenticationResult,
    ) -> AppResult<()> {
        passkey.update_credential(result);
        let json = serde_json::to_string(passkey).map_err(|e| AppError::internal(e.to_string()))?;
        state
            .db
            .passkey_used(&row.id, &json, state.clock.now_ms())
            .await?;
        Ok(())
    }

    async fn save<T: serde::Serialize>(
        &self,
        state: &AppState,
        kind: &str,
        user_id: Option<&str>,
        value: &T,
    ) -> AppResult<String> {
        let id = crate::setup::new_id()?;
        let now = state.clock.now_ms();
        state
            .db
            .insert_ceremony(&CeremonyRow {
                id: id.clone(),
                kind: kind.to_owned(),
                user_id: user_id.map(str::to_owned),
                state_json: serde_json::to_string(value)
                    .map_err(|e| AppError::internal(e.to_string()))?,
                created_ms: now,
                expires_ms: now + CEREMONY_MS,
            })
            .await?;
        Ok(id)
    }

    async fn take<T: serde::de::DeserializeOwned>(
        &self,
        state: &AppState,
        id: &str,
        kind: &str,
        user_id: Option<&str>,
    ) -> AppResult<T> {
        let expired =
            || refused("This request has expired or was already used. Please start again.");
        if id.len() != 32 {
            return Err(expired());
        }
        let row = state
            .db
            .take_ceremony(id, kind, state.clock.now_ms())
            .await?
            .ok_or_else(expired)?;
        if row.user_id.as_deref() != user_id {
            return Err(expired());
        }
        serde_json::from_str(&row.state_json)
            .map_err(|e| AppError::internal(format!("ceremony state: {e}")))
    }
}

/// A passkey that is registered already (to this or another account) is refused.
pub fn already_registered(e: store::StoreError) -> AppError {
    match e {
        store::StoreError::Conflict(_) => refused("That passkey is already registered."),
        other => other.into(),
    }
}

fn json<T: serde::Serialize>(value: &T) -> AppResult<Value> {
    serde_json::to_value(value).map_err(|e| AppError::internal(e.to_string()))
}

fn parse_stored(text: &str) -> AppResult<Passkey> {
    serde_json::from_str(text).map_err(|e| AppError::internal(format!("stored passkey: {e}")))
}

/// Our user ids are 128-bit hex: exactly a UUID's worth of bytes.
fn user_uuid_of(id: &str) -> Result<Uuid, ()> {
    let bytes = hex::decode(id).map_err(|_| ())?;
    Uuid::from_slice(&bytes).map_err(|_| ())
}

fn user_uuid(id: &str) -> AppResult<Uuid> {
    user_uuid_of(id).map_err(|()| AppError::internal("user id is not 128-bit hex"))
}
