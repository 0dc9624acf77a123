//! Password hashing with Argon2id on a bounded pool.
//!
//! Parameters are OWASP's minimum for Argon2id (m = 19 MiB, t = 2, p = 1). Hashing runs
//! on the blocking pool behind a semaphore sized to the machine, so a flood of sign-in
//! attempts queues here instead of starving every other request of CPU.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult};

/// Most bytes accepted in any password field (hashing cost is bounded anyway; this
/// bounds memory and refuses absurd input early).
pub const MAX_BYTES: usize = 1024;

const M_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_LANES: u32 = 1;

/// The hashing pool.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the account does not
    /// exist, so unknown and known accounts take the same time.
    decoy: Arc<String>,
}

impl Passwords {
    /// A pool allowing `concurrency` hashes at once.
    pub fn new(concurrency: usize) -> AppResult<Self> {
        let mut random = Zeroizing::new([0u8; 24]);
        getrandom::fill(random.as_mut()).map_err(|e| AppError::internal(format!("random: {e}")))?;
        let decoy = hash_blocking(&hex::encode(random.as_ref()))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            decoy: Arc::new(decoy),
        })
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: Zeroizing<String>) -> AppResult<String> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// Whether `password` matches `phc`. A malformed stored hash never matches.
    pub async fn verify(
        &self,
        password: Zeroizing<String>,
        phc: Option<String>,
    ) -> AppResult<bool> {
        let (phc, real) = match phc {
            Some(p) => (p, true),
            None => (self.decoy.as_ref().clone(), false),
        };
        let matched = self
            .run(move || {
                argon2()
                    .verify_password(password.as_bytes(), phc.as_str())
                    .is_ok()
            })
            .await?;
        Ok(real && matched)
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::internal("password pool closed"))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| AppError::internal(format!("password task: {e}")))
    }
}

fn argon2() -> Argon2<'static> {
    // The parameters are constants within Argon2's limits.
    let params = Params::new(M_KIB, T_COST, P_LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::internal(format!("random: {e}")))?;
    argon2()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_owasp_parameters() {
        let pool = Passwords::new(2).unwrap();
        let phc = pool
            .hash(Zeroizing::new("correct horse battery".into()))
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            pool.verify(
                Zeroizing::new("correct horse battery".into()),
                Some(phc.clone())
            )
            .await
            .unwrap()
        );
        assert!(
            !pool
                .verify(Zeroizing::new("wrong horse battery".into()), Some(phc))
                .await
                .unwrap()
        );
        assert!(
            !pool
                .verify(Zeroizing::new("x".into()), Some("not a hash".into()))
                .await
                .unwrap()
        );
        assert!(
            !pool
                .verify(Zeroizing::new("anything at all".into()), None)
                .await
                .unwrap()
        );
    }
}
