//! The account manager, as this service calls it: seed-000 registration and
//! login are forwarded to it, and members are looked up in it by email with
//! a service token (client credentials, shared with the revocation feed).
//!
//! Every call goes through one `send`: an unreachable account manager or
//! one that fails is "unavailable" (503), its 401 means the caller's token
//! is not accepted there (401), and any other answer a call does not expect
//! is logged and answered as an internal error; never a 500 for what the
//! caller sent.

use std::sync::Arc;

use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use shared::client::{ClientCredentials, CredentialsError};

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

pub struct AccountManager {
    base_url: String,
    http: reqwest::Client,
    credentials: Arc<ClientCredentials>,
}

fn unavailable(err: reqwest::Error) -> KanbanError {
    tracing::error!(error = %err, "account manager unreachable");
    KanbanError::Unavailable(UNAVAILABLE)
}

/// An answer no call expects: a failing account manager is unavailable;
/// anything else is a contract mismatch, logged with its status only.
fn unexpected(status: StatusCode) -> KanbanError {
    if status.is_server_error() {
        tracing::error!(%status, "account manager failed");
        return KanbanError::Unavailable(UNAVAILABLE);
    }
    KanbanError::Internal(anyhow::anyhow!(
        "unexpected account manager answer {status}"
    ))
}

async fn invalid(response: Response) -> KanbanError {
    match response.json::<ErrorAnswer>().await {
        Ok(answer) => KanbanError::Invalid(
            answer
                .msg
                .unwrap_or_default()
                .trim_start_matches("Bad Request: ")
                .to_owned(),
        ),
        Err(err) => unavailable(err),
    }
}

impl AccountManager {
    /// `credentials`: this service's client credentials, for user look-ups.
    pub fn new(base_url: &str, http: reqwest::Client, credentials: Arc<ClientCredentials>) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http,
            credentials,
        }
    }

    /// Sends a request; a 401 is the caller's token refused upstream, a 5xx
    /// or no answer is unavailability; other statuses are the call's to read.
    async fn send(&self, request: RequestBuilder) -> KanbanResult<Response> {
        let response = request.send().await.map_err(unavailable)?;
        let status = response.status();
        if status.is_server_error() {
            return Err(unexpected(status));
        }
        Ok(response)
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
            .send(
                self.http
                    .post(self.url("/api/v1/auth/register/email"))
                    .json(&body),
            )
            .await?;
        match response.status() {
            StatusCode::CREATED => Ok(response
                .json::<Tokens>()
                .await
                .map_err(unavailable)?
                .user_id),
            StatusCode::CONFLICT => Err(KanbanError::EmailTaken),
            StatusCode::BAD_REQUEST => Err(invalid(response).await),
            status => Err(unexpected(status)),
        }
    }

    /// Logs a user in.
    pub async fn login(&self, email: &str, password: &str) -> KanbanResult<Tokens> {
        let body = json!({"email": email, "password": password});
        let response = self
            .send(
                self.http
                    .post(self.url("/api/v1/auth/login/email"))
                    .json(&body),
            )
            .await?;
        match response.status() {
            StatusCode::OK => response.json().await.map_err(unavailable),
            StatusCode::BAD_REQUEST => Err(KanbanError::WrongCredentials),
            StatusCode::UNAUTHORIZED => Err(KanbanError::AccountDisabled),
            StatusCode::FORBIDDEN => Err(KanbanError::AccountBanned),
            status => Err(unexpected(status)),
        }
    }

    /// The user an access token belongs to.
    pub async fn me(&self, access_token: &str) -> KanbanResult<AccountUser> {
        let response = self
            .send(
                self.http
                    .get(self.url("/api/v1/auth/me"))
                    .bearer_auth(access_token),
            )
            .await?;
        match response.status() {
            StatusCode::OK => response.json().await.map_err(unavailable),
            StatusCode::UNAUTHORIZED => Err(KanbanError::Unauthenticated),
            status => Err(unexpected(status)),
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
            .send(
                self.http
                    .patch(self.url("/api/v1/auth/me"))
                    .bearer_auth(access_token)
                    .json(&body),
            )
            .await?;
        match response.status() {
            StatusCode::OK => response.json().await.map_err(unavailable),
            StatusCode::BAD_REQUEST => Err(invalid(response).await),
            StatusCode::UNAUTHORIZED => Err(KanbanError::Unauthenticated),
            status => Err(unexpected(status)),
        }
    }

    async fn service_token(&self, renew: bool) -> KanbanResult<String> {
        self.credentials
            .token(renew)
            .await
            .map_err(|err| match err {
                CredentialsError::NotConfigured => KanbanError::NotImplemented(
                    "member look-up needs KANBAN_AUTH_CLIENT_ID and KANBAN_AUTH_CLIENT_SECRET",
                ),
                CredentialsError::Unreachable(_) | CredentialsError::Refused(_) => {
                    tracing::error!(error = %err, "no service token");
                    KanbanError::Unavailable(UNAVAILABLE)
                }
            })
    }

    /// The user with this email, if any.
    pub async fn user_by_email(&self, email: &str) -> KanbanResult<Option<AccountUser>> {
        for renew in [false, true] {
            let token = self.service_token(renew).await?;
            let response = self
                .send(
                    self.http
                        .get(self.url("/api/v1/users/lookup"))
                        .query(&[("email", email)])
                        .bearer_auth(token),
                )
                .await?;
            match response.status() {
                StatusCode::OK => return response.json().await.map(Some).map_err(unavailable),
                StatusCode::NOT_FOUND => return Ok(None),
                // The cached token died (e.g. a key rotation): get a new one once.
                StatusCode::UNAUTHORIZED if !renew => continue,
                status => return Err(unexpected(status)),
            }
        }
        Err(KanbanError::Unavailable(UNAVAILABLE))
    }
}
