//! A service's credentials at the account manager: obtains service tokens
//! by the client-credentials call and caches each until shortly before it
//! expires.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::wire::{ServiceTokenRequest, ServiceTokenResponse};

/// Why no service token could be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("no client credentials are configured")]
    NotConfigured,
    #[error("the account manager is unreachable: {0}")]
    Unreachable(String),
    #[error("the account manager refused the client credentials ({0})")]
    Refused(u16),
}

/// How long a fetched service token is used before a new one is asked for
/// (service tokens live 15 minutes by default).
const REUSE_FOR: Duration = Duration::from_secs(5 * 60);

pub struct ClientCredentials {
    token_url: String,
    client: Option<(String, String)>,
    http: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

impl ClientCredentials {
    /// `auth_url`: the account manager's base URL; `client`: id and secret.
    pub fn new(auth_url: &str, client: Option<(String, String)>, http: reqwest::Client) -> Self {
        Self {
            token_url: format!(
                "{}/api/v1/auth/token/service",
                auth_url.trim_end_matches('/')
            ),
            client,
            http,
            cached: Mutex::new(None),
        }
    }

    pub fn is_configured(&self) -> bool {
        self.client.is_some()
    }

    /// A service token; `renew` forces a new one (the cached one was refused).
    pub async fn token(&self, renew: bool) -> Result<String, CredentialsError> {
        let mut cached = self.cached.lock().await;
        if !renew
            && let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let Some((client_id, secret)) = &self.client else {
            return Err(CredentialsError::NotConfigured);
        };
        let request = ServiceTokenRequest {
            client_id: Some(client_id.clone()).into(),
            client_secret: Some(secret.clone()).into(),
        };
        let unreachable = |err: reqwest::Error| CredentialsError::Unreachable(err.to_string());
        let response = self
            .http
            .post(&self.token_url)
            .json(&request)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if status.is_server_error() {
            return Err(CredentialsError::Unreachable(format!("status {status}")));
        }
        if !status.is_success() {
            tracing::error!(%status, "the account manager refused this service's client credentials");
            return Err(CredentialsError::Refused(status.as_u16()));
        }
        let answer: ServiceTokenResponse = response.json().await.map_err(unreachable)?;
        *cached = Some((answer.token.clone(), Instant::now() + REUSE_FOR));
        Ok(answer.token)
    }
}
