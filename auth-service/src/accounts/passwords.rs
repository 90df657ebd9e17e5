//! argon2id hashing on the blocking pool, a bounded number at a time, so a
//! login storm neither exhausts memory nor stalls the async workers.

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::PasswordSettings;

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash used other parameters than the configured ones.
    pub needs_rehash: bool,
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so that an unknown
    /// email takes as long to refuse as a wrong password.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    pub async fn new(settings: &PasswordSettings) -> anyhow::Result<Self> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|err| anyhow::anyhow!("invalid argon2 parameters: {err}"))?;
        let mut hasher = Self {
            params,
            permits: Arc::new(Semaphore::new(settings.max_concurrent)),
            dummy_hash: Arc::new(String::new()),
        };
        let dummy = hasher
            .hash("not a real password, only a timing decoy".to_owned())
            .await?;
        hasher.dummy_hash = Arc::new(dummy);
        Ok(hasher)
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Runs `work` on the blocking pool once a hashing permit is free.
    async fn offload<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        tokio::task::spawn_blocking(work)
            .await
            .context("hashing task failed")
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let params = self.params.clone();
        self.offload(move || {
            Self::argon2(params)
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|err| anyhow::anyhow!("hashing failed: {err}"))
        })
        .await?
    }

    /// Checks `password` against `stored`, or against a decoy when there is
    /// no stored hash (unknown account), which never matches.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> anyhow::Result<Verification> {
        let real = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let params = self.params.clone();
        self.offload(move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Verification {
                    matches: false,
                    needs_rehash: false,
                };
            };
            let matches = Self::argon2(params.clone())
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            let current = Params::try_from(&parsed).ok();
            let needs_rehash = current.is_none_or(|current| {
                current.m_cost() != params.m_cost()
                    || current.t_cost() != params.t_cost()
                    || current.p_cost() != params.p_cost()
            }) || parsed.algorithm.as_str() != "argon2id";
            Verification {
                matches: matches && real,
                needs_rehash,
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(memory_kib: u32) -> PasswordSettings {
        PasswordSettings {
            memory_kib,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_detect_parameter_changes() {
        let hasher = PasswordHasher::new(&settings(1024)).await.unwrap();
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        let ok = hasher
            .verify("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                matches: true,
                needs_rehash: false
            }
        );
        let wrong = hasher
            .verify("wrong".into(), Some(hash.clone()))
            .await
            .unwrap();
        assert!(!wrong.matches);

        let stronger = PasswordHasher::new(&settings(2048)).await.unwrap();
        let old = stronger
            .verify("correct horse".into(), Some(hash))
            .await
            .unwrap();
        assert_eq!(
            old,
            Verification {
                matches: true,
                needs_rehash: true
            }
        );
    }

    #[tokio::test]
    async fn unknown_accounts_and_garbage_hashes_never_match() {
        let hasher = PasswordHasher::new(&settings(1024)).await.unwrap();
        let decoy = "not a real password, only a timing decoy";
        assert!(!hasher.verify(decoy.into(), None).await.unwrap().matches);
        assert!(
            !hasher
                .verify("x".into(), Some("garbage".into()))
                .await
                .unwrap()
                .matches
        );
    }
}
