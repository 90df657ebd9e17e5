//! The account manager, as this service calls it: seed-000 registration and
//! login are forwarded to it, and members are looked up in it by email with
//! a service token (client credentials, cached until shortly before expiry).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use crate::error::{KanbanError, KanbanResult};

const UNAVAILABLE: &str = "account manager";

/// A user as the account manager describes them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountUser {
    #[serde(default)]
    pub username: Option<String>,
    pub id: i64,
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

impl AccountUser {
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name.trim(), self.last_name.trim())
            .trim()
            .to_owned()
    }
}

/// A login's tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub token: String,
    pub refresh_token: String,
    pub user_id: i64,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    msg: Option<String>,
}

#[derive(Deserialize)]
struct ServiceToken {
    token: String,
}

pub struct AccountManager {
    base_url: String,
    http: reqwest::Client,
    client: Option<(String, String)>,
    service_token: Mutex<Option<(String, Instant)>>,
}

fn unavailable(err: reqwest::Error) -> KanbanError {
    tracing::error!(error = %err, "account manager unreachable");
    KanbanError::Unavailable(UNAVAILABLE)
}

async fn unexpected(response: reqwest::Response) -> KanbanError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_server_error() {
        tracing::error!(%status, "account manager failed");
        return KanbanError::Unavailable(UNAVAILABLE);
    }
    KanbanError::Internal(anyhow::anyhow!(
        "unexpected account manager answer {status}: {body}"
    ))
}

impl AccountManager {
    /// `client` is this service's client id and secret, for user look-ups.
    pub fn new(base_url: &str, http: reqwest::Client, client: Option<(String, String)>) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http,
            client,
            service_token: Mutex::new(None),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Registers a user; answers their id.
    pub async fn register(
        &self,
        first_name: &str,
        last_name: &str,
        email: &str,
        password: &str,
    ) -> KanbanResult<i64> {
        let body = json!({
            "email": email, "password": password, "password2": password,
            "firstName": first_name, "lastName": last_name,
        });
        let response = self
            .http
            .post(self.url("/api/v1/auth/register/email"))
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        match response.status() {
            StatusCode::CREATED => Ok(response
                .json::<Tokens>()
                .await
                .map_err(unavailable)?
                .user_id),
            StatusCode::CONFLICT => Err(KanbanError::EmailTaken),
            StatusCode::BAD_REQUEST => {
                let answer: ErrorAnswer = response.json().await.map_err(unavailable)?;
                let msg = answer.msg.unwrap_or_default();
                Err(KanbanError::Invalid(
                    msg.trim_start_matches("Bad Request: ").to_owned(),
                ))
            }
            _ => Err(unexpected(response).await),
        }
    }

    /// Logs a user in.
    pub async fn login(&self, email: &str, password: &str) -> KanbanResult<Tokens> {
        let body = json!({"email": email, "password": password});
        let response = self
            .http
            .post(self.url("/api/v1/auth/login/email"))
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        match response.status() {
            StatusCode::OK => response.json().await.map_err(unavailable),
            StatusCode::BAD_REQUEST => Err(KanbanError::WrongCredentials),
            StatusCode::UNAUTHORIZED => Err(KanbanError::AccountDisabled),
            StatusCode::FORBIDDEN => Err(KanbanError::AccountBanned),
            _ => Err(unexpected(response).await),
        }
    }

    /// The user an access token belongs to.
    pub async fn me(&self, access_token: &str) -> KanbanResult<AccountUser> {
        let response = self
            .http
            .get(self.url("/api/v1/auth/me"))
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(unavailable)?;
        match response.status() {
            StatusCode::OK => response.json().await.map_err(unavailable),
            StatusCode::UNAUTHORIZED => Err(KanbanError::Invalid("Authentication failed".into())),
            _ => Err(unexpected(response).await),
        }
    }

    /// Changes the names of the user the access token belongs to.
    pub async fn update_names(
        &self,
        access_token: &str,
        first_name: Option<&str>,
        last_name: Option<&str>,
    ) -> KanbanResult<AccountUser> {
        let body = json!({"firstName": first_name, "lastName": last_name});
        let response = self
            .http
            .patch(self.url("/api/v1/auth/me"))
            .bearer_auth(access_token)
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        match response.status() {
            StatusCode::OK => response.json().await.map_err(unavailable),
            StatusCode::BAD_REQUEST => {
                let answer: ErrorAnswer = response.json().await.map_err(unavailable)?;
                Err(KanbanError::Invalid(
                    answer
                        .msg
                        .unwrap_or_default()
                        .trim_start_matches("Bad Request: ")
                        .to_owned(),
                ))
            }
            _ => Err(unexpected(response).await),
        }
    }

    async fn service_token(&self, renew: bool) -> KanbanResult<String> {
        let mut cached = self.service_token.lock().await;
        if !renew
            && let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let Some((client_id, secret)) = &self.client else {
            return Err(KanbanError::NotImplemented(
                "member look-up needs KANBAN_AUTH_CLIENT_ID and KANBAN_AUTH_CLIENT_SECRET",
            ));
        };
        let body = json!({"clientId": client_id, "clientSecret": secret});
        let response = self
            .http
            .post(self.url("/api/v1/auth/token/service"))
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        if response.status() != StatusCode::OK {
            tracing::error!(status = %response.status(), "the account manager refused this service's client credentials");
            return Err(KanbanError::Unavailable(UNAVAILABLE));
        }
        let token = response
            .json::<ServiceToken>()
            .await
            .map_err(unavailable)?
            .token;
        // Service tokens live 15 minutes by default; renew well before.
        *cached = Some((token.clone(), Instant::now() + Duration::from_secs(5 * 60)));
        Ok(token)
    }

    /// The user with this email, if any.
    pub async fn user_by_email(&self, email: &str) -> KanbanResult<Option<AccountUser>> {
        for renew in [false, true] {
            let token = self.service_token(renew).await?;
            let response = self
                .http
                .get(self.url("/api/v1/users/lookup"))
                .query(&[("email", email)])
                .bearer_auth(token)
                .send()
                .await
                .map_err(unavailable)?;
            match response.status() {
                StatusCode::OK => return response.json().await.map(Some).map_err(unavailable),
                StatusCode::NOT_FOUND => return Ok(None),
                // The cached token died (e.g. a key rotation): get a new one once.
                StatusCode::UNAUTHORIZED if !renew => continue,
                _ => return Err(unexpected(response).await),
            }
        }
        Err(KanbanError::Unavailable(UNAVAILABLE))
    }
}
