//! What RFC 7662 introspection and RFC 7009 revocation decide about a
//! presented token, for the services that call them. The HTTP shapes are in
//! `api::oauth`.

use shared::{
    AccessClaims, RevocationCheck, RevocationError, ServiceClaims, TokenVerifier, VerifyError,
};

use super::revocation::{RevocationOutcome, Revocations};
use super::sessions::{RefreshInfo, SessionHolders, Sessions};

/// What a presented token is, as far as a client may know.
#[derive(Debug, Clone)]
pub enum TokenInfo {
    /// Unknown, malformed, expired, revoked, or not the caller's to see.
    Inactive,
    Access(AccessClaims),
    Service(ServiceClaims),
    Refresh(RefreshInfo),
}

/// What a revocation request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The token is dead (or was never valid: RFC 7009 answers the same).
    Done,
    /// A service token of another client: refused.
    NotTheClients,
}

/// Why the desk could not answer.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The revocation state (or the signing keys) cannot be read now.
    #[error("revocation state unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<RevocationOutcome> for DeskError {
    fn from(err: RevocationOutcome) -> Self {
        match err {
            RevocationOutcome::Spread(RevocationError::Unavailable) => DeskError::Unavailable,
            other => DeskError::Internal(other.into()),
        }
    }
}

/// Deciding on tokens for clients.
pub struct TokenDesk<'a> {
    pub verifier: &'a TokenVerifier,
    pub revocations: &'a Revocations,
    pub sessions: &'a Sessions,
    /// Whose accounts may still hold a session (the accounts side decides).
    pub holders: &'a dyn SessionHolders,
}

fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

fn unavailable_or_inactive<T>(result: Result<T, RevocationError>) -> Result<Option<T>, DeskError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(RevocationError::Revoked) => Ok(None),
        Err(RevocationError::Unavailable) => Err(DeskError::Unavailable),
    }
}

impl TokenDesk<'_> {
    /// RFC 7662: what `token` is, for `client_id`. A service token is only
    /// described to the client it was issued to.
    pub async fn introspect(&self, client_id: &str, token: &str) -> Result<TokenInfo, DeskError> {
        if !looks_like_jwt(token) {
            return Ok(self
                .sessions
                .refresh_info(token, self.holders)
                .await?
                .map_or(TokenInfo::Inactive, TokenInfo::Refresh));
        }
        let set = self.revocations.set();
        match self.verifier.verify_access(token).await {
            Ok(claims) => {
                let live = unavailable_or_inactive(set.check(&claims))?;
                return Ok(live.map_or(TokenInfo::Inactive, |_| TokenInfo::Access(claims)));
            }
            Err(VerifyError::KeysUnavailable) => return Err(DeskError::Unavailable),
            // Perhaps a service token (whose claims are not an access token's).
            Err(_) => {}
        }
        match self.verifier.verify::<ServiceClaims>(token).await {
            Ok(claims) if claims.sub == client_id => {
                let live = unavailable_or_inactive(set.check_token_id(&claims.jti))?;
                Ok(live.map_or(TokenInfo::Inactive, |_| TokenInfo::Service(claims)))
            }
            Err(VerifyError::KeysUnavailable) => Err(DeskError::Unavailable),
            _ => Ok(TokenInfo::Inactive),
        }
    }

    /// RFC 7009: `client_id` no longer wants `token` to work. A refresh
    /// token ends its session; an access token dies alone; a service token
    /// only at the request of the client it was issued to.
    pub async fn revoke(&self, client_id: &str, token: &str) -> Result<Revoked, DeskError> {
        if !looks_like_jwt(token) {
            self.sessions.end_by_refresh_token(token).await?;
            return Ok(Revoked::Done);
        }
        match self.verifier.verify_access(token).await {
            Ok(claims) => {
                let fact = self.revocations.token(&claims.jti, claims.exp);
                self.revocations.revoke(&[fact]).await?;
                return Ok(Revoked::Done);
            }
            Err(VerifyError::KeysUnavailable) => return Err(DeskError::Unavailable),
            // Perhaps a service token (whose claims are not an access token's).
            Err(_) => {}
        }
        match self.verifier.verify::<ServiceClaims>(token).await {
            Ok(claims) if claims.sub != client_id => Ok(Revoked::NotTheClients),
            Ok(claims) => {
                let fact = self.revocations.token(&claims.jti, claims.exp);
                self.revocations.revoke(&[fact]).await?;
                Ok(Revoked::Done)
            }
            Err(VerifyError::KeysUnavailable) => Err(DeskError::Unavailable),
            Err(_) => Ok(Revoked::Done),
        }
    }
}
