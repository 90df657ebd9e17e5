//! Local verification of access tokens: the signature against a key found
//! by `kid`, the algorithm pinned, `iss`, `aud`, `exp` and `typ` checked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use tokio::sync::{Mutex, RwLock};

use crate::claims::{AccessClaims, TypedClaims};
use crate::revocation::KeyEvents;

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token is signed with an algorithm that is not accepted")]
    Algorithm,
    #[error("the token names no signing key")]
    MissingKeyId,
    #[error("the token's signing key is unknown")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    Signature,
    #[error("the token has expired")]
    Expired,
    /// Its `iat` lies further in the future than the clock-skew leeway: a
    /// token minted to outlive its stated lifetime, or a broken clock.
    #[error("the token is issued in the future")]
    IssuedInFuture,
    #[error("the token's issuer or audience is wrong")]
    WrongParty,
    #[error("the token is not an access token")]
    WrongType,
    /// The keys could not be fetched: the token could not be checked.
    #[error("the signing keys are unavailable")]
    KeysUnavailable,
}

impl VerifyError {
    /// True when the token itself is bad (401); false when it could not be
    /// checked (503).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, VerifyError::KeysUnavailable)
    }
}

/// Where verification keys come from: the issuer's own key ring, or a JWKS
/// fetched over HTTP.
#[async_trait]
pub trait KeySource: Send + Sync {
    async fn key(&self, kid: &str) -> Result<Option<Arc<DecodingKey>>, VerifyError>;
}

/// Verifies access tokens. Cheap to share behind an `Arc`.
pub struct TokenVerifier {
    keys: Arc<dyn KeySource>,
    validation: Validation,
    verified: VerifiedTokens,
}

/// Access tokens whose signature and parties were already checked, by the
/// token's exact text, with the key that signed them. A token seen again
/// skips the signature check (the costly part) but not the rest: its key
/// must still be trusted (a revoked key is dropped by the key source) and it
/// must not have expired. Bounded: when full it starts over.
struct VerifiedTokens {
    entries: std::sync::RwLock<HashMap<String, (String, AccessClaims)>>,
}

/// Most tokens remembered at once (a few MiB).
const VERIFIED_CAPACITY: usize = 20_000;

impl VerifiedTokens {
    fn get(&self, token: &str) -> Option<(String, AccessClaims)> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(token).cloned()
    }

    fn insert(&self, token: &str, kid: String, claims: AccessClaims) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= VERIFIED_CAPACITY {
            entries.clear();
        }
        entries.insert(token.to_owned(), (kid, claims));
    }
}

impl TokenVerifier {
    /// Accepts only EdDSA tokens from `issuer` for `audience`.
    pub fn new(keys: Arc<dyn KeySource>, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            keys,
            validation,
            verified: VerifiedTokens {
                entries: std::sync::RwLock::new(HashMap::new()),
            },
        }
    }

    /// Verifies an access token and returns its claims. Revocation is a
    /// separate check (see [`crate::revocation`]).
    pub async fn verify_access(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        if let Some((kid, claims)) = self.verified.get(token) {
            let now = unix_now();
            if claims.exp + (self.validation.leeway as i64) < now {
                return Err(VerifyError::Expired);
            }
            if self.keys.key(&kid).await?.is_some() {
                return Ok(claims);
            }
        }
        let (kid, claims) = self.verify_with_kid::<AccessClaims>(token).await?;
        self.verified.insert(token, kid, claims.clone());
        Ok(claims)
    }

    /// Verifies a token whose claims must be of type `C` (its `typ`).
    pub async fn verify<C: TypedClaims>(&self, token: &str) -> Result<C, VerifyError> {
        Ok(self.verify_with_kid(token).await?.1)
    }

    async fn verify_with_kid<C: TypedClaims>(
        &self,
        token: &str,
    ) -> Result<(String, C), VerifyError> {
        let header = decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if !self.validation.algorithms.contains(&header.alg) {
            return Err(VerifyError::Algorithm);
        }
        let kid = header.kid.ok_or(VerifyError::MissingKeyId)?;
        let key = self.keys.key(&kid).await?.ok_or(VerifyError::UnknownKey)?;
        let data = decode::<C>(token, &key, &self.validation).map_err(classify)?;
        if data.claims.token_type() != C::TYPE {
            return Err(VerifyError::WrongType);
        }
        if data.claims.issued_at() > unix_now() + self.validation.leeway as i64 {
            return Err(VerifyError::IssuedInFuture);
        }
        Ok((kid, data.claims))
    }
}

fn classify(err: jsonwebtoken::errors::Error) -> VerifyError {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => VerifyError::Expired,
        ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience | ErrorKind::InvalidSubject => {
            VerifyError::WrongParty
        }
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => VerifyError::Algorithm,
        ErrorKind::InvalidSignature | ErrorKind::InvalidEddsaKey | ErrorKind::InvalidKeyFormat => {
            VerifyError::Signature
        }
        _ => VerifyError::Malformed,
    }
}

/// Ed25519 keys from a JWKS document fetched over HTTP, cached. A token
/// naming an unknown `kid` makes it fetch again, at most once per
/// `min_refetch`, whether the last fetch worked or not: neither a flood of
/// made-up `kid`s nor a failing issuer turns into a fetch per request, and
/// the last good keys keep verifying meanwhile. The revocation feed tells it
/// of rotations ([`KeyEvents::keys_changed`], fetched at once) and of
/// compromised keys ([`KeyEvents::key_revoked`], dropped at once and never
/// taken back from a JWKS until the fact expires).
pub struct JwksKeySource {
    url: String,
    http: reqwest::Client,
    min_refetch: Duration,
    keys: RwLock<HashMap<String, Arc<DecodingKey>>>,
    /// Revoked `kid`s, until when (unix seconds).
    denied: RwLock<HashMap<String, i64>>,
    last_fetch: Mutex<Option<FetchAttempt>>,
}

#[derive(Clone, Copy)]
struct FetchAttempt {
    at: Instant,
    failed: bool,
}

impl JwksKeySource {
    pub fn new(url: impl Into<String>, http: reqwest::Client, min_refetch: Duration) -> Self {
        Self {
            url: url.into(),
            http,
            min_refetch,
            keys: RwLock::new(HashMap::new()),
            denied: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
        }
    }

    /// Fetches the document now and replaces the cache.
    pub async fn refresh(&self) -> Result<usize, VerifyError> {
        let mut last_fetch = self.last_fetch.lock().await;
        self.fetch_locked(&mut last_fetch).await
    }

    async fn fetch_locked(
        &self,
        last_fetch: &mut Option<FetchAttempt>,
    ) -> Result<usize, VerifyError> {
        let result: Result<JwkSet, reqwest::Error> = async {
            self.http
                .get(&self.url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        }
        .await;
        *last_fetch = Some(FetchAttempt {
            at: Instant::now(),
            failed: result.is_err(),
        });
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        metrics::counter!(crate::metrics::JWKS_FETCHES, "outcome" => outcome).increment(1);
        let set = result.map_err(|err| {
            tracing::warn!(url = %self.url, error = %err, "JWKS fetch failed");
            VerifyError::KeysUnavailable
        })?;
        let mut fresh = ed25519_keys(&set);
        let now = unix_now();
        {
            let mut denied = self.denied.write().await;
            denied.retain(|_, until| *until > now);
            fresh.retain(|kid, _| !denied.contains_key(kid));
        }
        let count = fresh.len();
        *self.keys.write().await = fresh;
        Ok(count)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

#[async_trait]
impl KeyEvents for JwksKeySource {
    async fn keys_changed(&self) {
        if let Err(err) = self.refresh().await {
            tracing::warn!(error = %err, "JWKS reload after a key change failed");
        }
    }

    async fn key_revoked(&self, kid: &str, until: i64) {
        self.denied.write().await.insert(kid.to_owned(), until);
        if self.keys.write().await.remove(kid).is_some() {
            tracing::warn!(kid, "signing key revoked: its tokens are refused");
        }
    }
}

/// The Ed25519 verification keys of a JWKS, by `kid`; any other kind of key
/// is ignored, so a key of another family can never verify a token.
pub fn ed25519_keys(set: &JwkSet) -> HashMap<String, Arc<DecodingKey>> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            match &jwk.algorithm {
                AlgorithmParameters::OctetKeyPair(params)
                    if params.curve == EllipticCurve::Ed25519 =>
                {
                    DecodingKey::from_ed_components(&params.x)
                        .ok()
                        .map(|key| (kid, Arc::new(key)))
                }
                _ => None,
            }
        })
        .collect()
}

#[async_trait]
impl KeySource for JwksKeySource {
    async fn key(&self, kid: &str) -> Result<Option<Arc<DecodingKey>>, VerifyError> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(Some(key.clone()));
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(Some(key.clone()));
        }
        if let Some(attempt) = *last_fetch
            && attempt.at.elapsed() < self.min_refetch
        {
            return if attempt.failed {
                Err(VerifyError::KeysUnavailable)
            } else {
                Ok(None)
            };
        }
        self.fetch_locked(&mut last_fetch).await?;
        Ok(self.keys.read().await.get(kid).cloned())
    }
}
