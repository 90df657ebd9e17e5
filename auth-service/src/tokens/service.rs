//! Service tokens: the client-credentials flow other services use to call
//! the account manager (and the client authentication the OAuth endpoints
//! share).

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{IssuedAccessToken, TokenIssuer};
use crate::config::ServiceClient;

/// Why no service token was issued.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Unknown client id or wrong secret.
    #[error("invalid client credentials")]
    InvalidClient,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A service token and the scopes it carries (space-separated).
#[derive(Debug, Clone)]
pub struct IssuedServiceToken {
    pub token: IssuedAccessToken,
    pub scope: String,
}

/// The configured client with this id and secret, if any. Compares digests,
/// so the time taken says nothing about how much of a secret was right.
pub fn authenticate<'a>(
    clients: &'a [ServiceClient],
    client_id: &str,
    secret: &str,
) -> Option<&'a ServiceClient> {
    let presented = Sha256::digest(secret.as_bytes());
    clients.iter().find(|client| {
        client.id == client_id && Sha256::digest(client.secret.as_bytes()) == presented
    })
}

/// Client credentials: authenticates the client, then signs a token with
/// its scopes, valid for `ttl`.
pub fn issue(
    clients: &[ServiceClient],
    issuer: &TokenIssuer,
    client_id: &str,
    secret: &str,
    ttl: Duration,
) -> Result<IssuedServiceToken, ClientError> {
    let client = authenticate(clients, client_id, secret).ok_or(ClientError::InvalidClient)?;
    let token = issuer.service_token(&client.id, &client.scopes, ttl)?;
    Ok(IssuedServiceToken {
        token,
        scope: client.scopes.join(" "),
    })
}
