//! Local verification of JWTs: the signature against a key found by `kid`
//! in a JWKS (fetched, cached, refetched on an unknown `kid` at a bounded
//! rate), the algorithm pinned, `iss`, `aud` and `exp` checked. The access
//! tokens of the account manager (EdDSA, `typ` checked too) go through
//! [`TokenVerifier`]; other issuers' tokens (Google's RS256 ID tokens)
//! through [`verify_jwt`] over a [`JwksKeySource`] keeping RSA keys.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::de::DeserializeOwned;
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
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    #[error("the token is meant for another audience")]
    WrongAudience,
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
        let (kid, claims) = verify_jwt::<C>(self.keys.as_ref(), &self.validation, token).await?;
        if claims.token_type() != C::TYPE {
            return Err(VerifyError::WrongType);
        }
        if claims.issued_at() > unix_now() + self.validation.leeway as i64 {
            return Err(VerifyError::IssuedInFuture);
        }
        Ok((kid, claims))
    }
}

/// Verifies a JWT's signature with the key its header's `kid` names in
/// `keys`, and its claims as `validation` says (its algorithms pinned: a
/// token naming any other is refused before a key is looked up). Answers
/// the `kid` and the claims.
pub async fn verify_jwt<C: DeserializeOwned>(
    keys: &dyn KeySource,
    validation: &Validation,
    token: &str,
) -> Result<(String, C), VerifyError> {
    let header = decode_header(token).map_err(|_| VerifyError::Malformed)?;
    if !validation.algorithms.contains(&header.alg) {
        return Err(VerifyError::Algorithm);
    }
    let kid = header.kid.ok_or(VerifyError::MissingKeyId)?;
    let key = keys.key(&kid).await?.ok_or(VerifyError::UnknownKey)?;
    let data = decode::<C>(token, &key, validation).map_err(classify)?;
    Ok((kid, data.claims))
}

fn classify(err: jsonwebtoken::errors::Error) -> VerifyError {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => VerifyError::Expired,
        ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
        ErrorKind::InvalidAudience => VerifyError::WrongAudience,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => VerifyError::Algorithm,
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => VerifyError::Signature,
        _ => VerifyError::Malformed,
    }
}

/// Which keys of a JWKS a source keeps: those of one family only, so that
/// a key of another family can never verify a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Ed25519 (`OKP`, for EdDSA): the account manager's keys.
    Ed25519,
    /// RSA (for RS256): Google's keys.
    Rsa,
}

/// Verification keys from a JWKS document fetched over HTTP, cached (Ed25519
/// ones unless [`JwksKeySource::keeping`] says otherwise). A token
/// naming an unknown `kid` makes it fetch again, at most once per
/// `min_refetch`, whether the last fetch worked or not: neither a flood of
/// made-up `kid`s nor a failing issuer turns into a fetch per request, and
/// the last good keys keep verifying meanwhile. The revocation feed tells it
/// of rotations ([`KeyEvents::keys_changed`], fetched at once) and of
/// compromised keys ([`KeyEvents::key_revoked`], dropped at once and never
/// taken back from a JWKS until the fact expires).
pub struct JwksKeySource {
    url: String,
    kind: KeyKind,
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
            kind: KeyKind::Ed25519,
            http,
            min_refetch,
            keys: RwLock::new(HashMap::new()),
            denied: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
        }
    }

    /// Keeps the document's keys of `kind` instead (and only those).
    pub fn keeping(mut self, kind: KeyKind) -> Self {
        self.kind = kind;
        self
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
        let mut fresh = jwks_keys(&set, self.kind);
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
    jwks_keys(set, KeyKind::Ed25519)
}

/// The verification keys of `kind` in a JWKS, by `kid`; keys of any other
/// kind, keys without a `kid` and keys marked for another use than
/// signatures are ignored.
pub fn jwks_keys(set: &JwkSet, kind: KeyKind) -> HashMap<String, Arc<DecodingKey>> {
    set.keys
        .iter()
        .filter(|jwk| {
            !matches!(
                jwk.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            )
        })
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let key = match (&jwk.algorithm, kind) {
                (AlgorithmParameters::OctetKeyPair(params), KeyKind::Ed25519)
                    if params.curve == EllipticCurve::Ed25519 =>
                {
                    DecodingKey::from_ed_components(&params.x).ok()
                }
                (AlgorithmParameters::RSA(params), KeyKind::Rsa) => {
                    DecodingKey::from_rsa_components(&params.n, &params.e).ok()
                }
                _ => None,
            }?;
            Some((kid, Arc::new(key)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> JwkSet {
        serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "rsa", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"},
            {"kty": "RSA", "use": "enc", "kid": "rsa-enc", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"},
            {"kty": "RSA", "alg": "RS256", "n": "sXch", "e": "AQAB"},
        ]}))
        .unwrap()
    }

    #[test]
    fn a_source_keeps_the_signing_keys_of_its_kind_only() {
        let set = set();
        let ed: Vec<String> = jwks_keys(&set, KeyKind::Ed25519).into_keys().collect();
        assert_eq!(ed, ["ed"]);
        let rsa: Vec<String> = jwks_keys(&set, KeyKind::Rsa).into_keys().collect();
        assert_eq!(rsa, ["rsa"], "no encryption keys, no keys without a kid");
        assert_eq!(ed25519_keys(&set).len(), 1);
    }

    #[test]
    fn issuer_and_audience_refusals_are_told_apart() {
        use jsonwebtoken::errors::{Error, ErrorKind};
        assert_eq!(
            classify(Error::from(ErrorKind::InvalidIssuer)),
            VerifyError::WrongIssuer
        );
        assert_eq!(
            classify(Error::from(ErrorKind::InvalidAudience)),
            VerifyError::WrongAudience
        );
        assert_eq!(
            classify(Error::from(ErrorKind::ExpiredSignature)),
            VerifyError::Expired
        );
    }
}
