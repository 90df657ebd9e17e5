//! Tokens: signing keys, access-token issuance, refresh rotation, revocation.

pub mod feed;
pub mod jwt;
pub mod keys;
pub mod oauth;
pub mod refresh;
pub mod revocation;
pub mod service;
pub mod sessions;

pub use service::ClientError;
pub use sessions::{RefreshError, SessionHolders};

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use shared::{AccessClaims, RefreshClaims, Role, ServiceClaims, TokenType};

use self::keys::KeyRing;

/// Who an access token speaks for. Built by the accounts side, which alone
/// decides whether an account may hold a session; tokens only sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    pub user_id: i64,
    pub role: Role,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// A signed access token and its lifetime (unix seconds).
#[derive(Debug, Clone)]
pub struct IssuedAccessToken {
    pub token: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// How long access tokens live: the standard lifetime, and the extended
/// one of sessions opened for clients that never refresh.
#[derive(Debug, Clone, Copy)]
pub struct AccessLifetimes {
    pub standard: Duration,
    pub extended: Duration,
}

/// Signs access tokens with the key ring's current key.
pub struct TokenIssuer {
    keys: Arc<KeyRing>,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    extended_access_ttl: Duration,
}

impl TokenIssuer {
    pub fn new(
        keys: Arc<KeyRing>,
        issuer: String,
        audience: String,
        lifetimes: AccessLifetimes,
    ) -> Self {
        Self {
            keys,
            issuer,
            audience,
            access_ttl: lifetimes.standard,
            extended_access_ttl: lifetimes.extended,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Signs an access token, for the extended lifetime when `extended`.
    /// EdDSA signatures are deterministic, so the same claims signed with
    /// the same key give the same token, which lets a refresh retry within
    /// the grace window get the very same answer.
    pub fn access_token(
        &self,
        subject: &TokenSubject,
        session_id: &str,
        jti: String,
        issued_at: i64,
        extended: bool,
    ) -> anyhow::Result<IssuedAccessToken> {
        let ttl = if extended {
            self.extended_access_ttl
        } else {
            self.access_ttl
        };
        let expires_at = issued_at + ttl.as_secs() as i64;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.user_id.to_string(),
            exp: expires_at,
            iat: issued_at,
            jti,
            sid: session_id.to_owned(),
            role: subject.role,
            email: subject.email.clone(),
            name: subject.name.clone(),
            typ: TokenType::Access,
            expiration: Some(expires_at.saturating_mul(1000)),
        };
        Ok(IssuedAccessToken {
            token: self.sign(&claims)?,
            issued_at,
            expires_at,
        })
    }

    /// Signs the refresh token of a session that keeps one for life: a JWT
    /// its holder can read (when it expires), stored by its hash like any
    /// refresh token, unique by its random `jti`.
    pub fn refresh_token(
        &self,
        user_id: i64,
        session_id: &str,
        issued_at: i64,
        expires_at: i64,
    ) -> anyhow::Result<String> {
        let claims = RefreshClaims {
            iss: self.issuer.clone(),
            sub: user_id.to_string(),
            sid: session_id.to_owned(),
            iat: issued_at,
            exp: expires_at,
            expiration: expires_at.saturating_mul(1000),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            typ: TokenType::Refresh,
        };
        self.sign(&claims)
    }
}

impl TokenIssuer {
    /// Signs claims with the current key, naming it in the header's `kid`.
    fn sign(&self, claims: &impl serde::Serialize) -> anyhow::Result<String> {
        let signer = self.keys.signer();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(signer.kid.clone());
        jwt::encode(&header, claims, &signer.key)
    }

    /// Signs a service token for a client with the given scopes.
    pub fn service_token(
        &self,
        client_id: &str,
        scopes: &[String],
        ttl: Duration,
    ) -> anyhow::Result<IssuedAccessToken> {
        let issued_at = chrono::Utc::now().timestamp();
        let expires_at = issued_at + ttl.as_secs() as i64;
        let claims = ServiceClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: client_id.to_owned(),
            exp: expires_at,
            iat: issued_at,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            scope: scopes.join(" "),
            typ: TokenType::Service,
        };
        Ok(IssuedAccessToken {
            token: self.sign(&claims)?,
            issued_at,
            expires_at,
        })
    }
}

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("no randomness: {err}"))?;
    Ok(bytes)
}
