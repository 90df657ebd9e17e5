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
}

impl TokenVerifier {
    /// Accepts only EdDSA tokens from `issuer` for `audience`.
    pub fn new(keys: Arc<dyn KeySource>, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self { keys, validation }
    }

    /// Verifies an access token and returns its claims. Revocation is a
    /// separate check (see [`crate::revocation`]).
    pub async fn verify_access(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        self.verify::<AccessClaims>(token).await
    }

    /// Verifies a token whose claims must be of type `C` (its `typ`).
    pub async fn verify<C: TypedClaims>(&self, token: &str) -> Result<C, VerifyError> {
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
        Ok(data.claims)
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

/// Ed25519 keys from a JWKS document fetched over HTTP, cached, and fetched
/// again (at most once per `min_refetch`) when a token names an unknown `kid`.
pub struct JwksKeySource {
    url: String,
    http: reqwest::Client,
    min_refetch: Duration,
    keys: RwLock<HashMap<String, Arc<DecodingKey>>>,
    last_fetch: Mutex<Option<Instant>>,
}

impl JwksKeySource {
    pub fn new(url: impl Into<String>, http: reqwest::Client, min_refetch: Duration) -> Self {
        Self {
            url: url.into(),
            http,
            min_refetch,
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
        }
    }

    /// Fetches the document now and replaces the cache.
    pub async fn refresh(&self) -> Result<usize, VerifyError> {
        let mut last_fetch = self.last_fetch.lock().await;
        self.fetch_locked(&mut last_fetch).await
    }

    async fn fetch_locked(&self, last_fetch: &mut Option<Instant>) -> Result<usize, VerifyError> {
        *last_fetch = Some(Instant::now());
        let set: JwkSet = async {
            self.http
                .get(&self.url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        }
        .await
        .map_err(|err| {
            tracing::warn!(url = %self.url, error = %err, "JWKS fetch failed");
            VerifyError::KeysUnavailable
        })?;
        let fresh = ed25519_keys(&set);
        let count = fresh.len();
        *self.keys.write().await = fresh;
        Ok(count)
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
        let recently = last_fetch.is_some_and(|at| at.elapsed() < self.min_refetch);
        if recently {
            return Ok(None);
        }
        match self.fetch_locked(&mut last_fetch).await {
            Ok(_) => Ok(self.keys.read().await.get(kid).cloned()),
            Err(err) => {
                // Let the next request try again at once: the issuer was
                // unreachable, which says nothing about the kid.
                *last_fetch = None;
                Err(err)
            }
        }
    }
}
