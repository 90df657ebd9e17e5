//! The account manager, as this service calls it: seed-000 registration and
//! login are forwarded to it, and users can be looked up in it by email with
//! a service token (client credentials, shared with the revocation feed).
//! Adding a member does not look the email up: it invites, so that no
//! answer says whether an email has an account.
//!
//! Every call goes through one `send`: an unreachable account manager or
//! one that fails is "unavailable" (503), its 401 means the caller's token
//! is not accepted there (401), and any other answer a call does not expect
//! is logged and answered as an internal error; never a 500 for what the
//! caller sent.

use std::sync::Arc;

use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use shared::client::{ClientCredentials, CredentialsError};
use shared::error::{ErrorBody, codes};
use shared::wire::{
    GoogleLoginRequest, LoginRequest, ProfileUpdate, RegisterRequest, TokenResponse, UserResponse,
    UserSummary, full_name,
};

use crate::error::{KanbanError, KanbanResult};

const UNAVAILABLE: &str = "account manager";

/// A user as the account manager describes them.
#[derive(Debug, Clone)]
pub struct AccountUser {
    pub id: i64,
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
}

impl AccountUser {
    pub fn name(&self) -> String {
        full_name(&self.first_name, &self.last_name)
    }
}

impl From<UserResponse> for AccountUser {
    fn from(user: UserResponse) -> Self {
        Self {
            id: user.id,
            username: user.username,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
        }
    }
}

impl From<UserSummary> for AccountUser {
    fn from(user: UserSummary) -> Self {
        Self {
            id: user.id,
            username: None,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
        }
    }
}

/// A login's tokens.
pub type Tokens = TokenResponse;

pub struct AccountManager {
    base_url: String,
    http: reqwest::Client,
    credentials: Arc<ClientCredentials>,
}

fn unavailable(err: reqwest::Error) -> KanbanError {
    tracing::error!(error = %err, "account manager unreachable");
    KanbanError::Unavailable(UNAVAILABLE)
}

/// The person behind a call kanban makes on their behalf: the account
/// manager limits sign-ins per client address (it trusts kanban's
/// `X-Forwarded-For` when kanban's address is in `AUTH_TRUSTED_PROXIES`),
/// shows the user agent in the user's session list, and logs and audits
/// the call under kanban's request id (`X-Request-Id`), so one id follows
/// a request through both services.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub address: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    /// The id of kanban's request this call serves.
    pub request_id: Option<String>,
}

impl Client {
    fn on(&self, mut request: RequestBuilder) -> RequestBuilder {
        if let Some(address) = self.address {
            request = request.header("X-Forwarded-For", address.to_string());
        }
        if let Some(agent) = &self.user_agent {
            request = request.header(reqwest::header::USER_AGENT, agent.as_str());
        }
        if let Some(id) = &self.request_id {
            request = request.header("X-Request-Id", id.as_str());
        }
        request
    }
}

/// What a registration answers, whichever way it went.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registered {
    user_id: i64,
}

/// A refusal of the account manager: its status and the body's
/// machine-readable `code` (and `msg`, passed on for validation errors).
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: Option<String>,
    /// `Retry-After` of a 429, in seconds.
    retry_after: Option<u64>,
    msg: String,
}

impl Refusal {
    fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// An answer the call does not expect: a contract mismatch, logged with
    /// its status and code only.
    fn unexpected(self) -> KanbanError {
        KanbanError::Internal(anyhow::anyhow!(
            "unexpected account manager answer {} ({:?})",
            self.status,
            self.code
        ))
    }

    /// Over one of the account manager's sign-in limits.
    fn rate_limited(self) -> KanbanError {
        KanbanError::RateLimited {
            retry_after: self.retry_after.unwrap_or(1),
        }
    }

    /// What every sign-in refusal means whatever the way of signing in: a
    /// rate limit, or the account's standing; the refusal back otherwise.
    fn sign_in(self) -> Result<KanbanError, Refusal> {
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            return Ok(self.rate_limited());
        }
        match self.code.as_deref() {
            Some(codes::ACCOUNT_DISABLED) => Ok(KanbanError::AccountDisabled),
            Some(codes::ACCOUNT_BANNED) => Ok(KanbanError::AccountBanned),
            Some(codes::EMAIL_UNVERIFIED) => Ok(KanbanError::EmailUnverified),
            _ => Err(self),
        }
    }

    /// A validation refusal, worded as the account manager worded it.
    fn invalid(self) -> KanbanError {
        KanbanError::Invalid(self.msg.trim_start_matches("Bad Request: ").to_owned())
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

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a request: the answer's body when it succeeded, its refusal
    /// otherwise. No answer, or a failing account manager, is unavailable.
    async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> KanbanResult<Result<T, Refusal>> {
        let response = request.send().await.map_err(unavailable)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok());
        if status.is_success() {
            return Ok(Ok(response.json().await.map_err(unavailable)?));
        }
        // 501: a feature the account manager has switched off (Google
        // sign-in), which the call answers.
        if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
            tracing::error!(%status, "account manager failed");
            return Err(KanbanError::Unavailable(UNAVAILABLE));
        }
        let body: Option<ErrorBody> = response.json().await.ok();
        Ok(Err(Refusal {
            retry_after,
            status,
            code: body.as_ref().and_then(|body| body.code.clone()),
            msg: body.map(|body| body.msg).unwrap_or_default(),
        }))
    }

    /// Registers a user; answers their id.
    pub async fn register(
        &self,
        first_name: &str,
        last_name: &str,
        email: &str,
        password: &str,
        client: &Client,
    ) -> KanbanResult<i64> {
        let body = RegisterRequest {
            email: Some(email.to_owned()).into(),
            password: Some(password.to_owned()).into(),
            password2: Some(password.to_owned()).into(),
            first_name: Some(first_name.to_owned().into()),
            last_name: Some(last_name.to_owned().into()),
        };
        let request = client.on(self
            .http
            .post(self.url("/api/v1/auth/register/email"))
            .json(&body));
        // A first session (201), or a verification mail on its way (202):
        // either names the new account.
        match self.send::<Registered>(request).await? {
            Ok(registered) => Ok(registered.user_id),
            Err(refusal) if refusal.status == StatusCode::TOO_MANY_REQUESTS => {
                Err(refusal.rate_limited())
            }
            Err(refusal) if refusal.is(codes::EMAIL_TAKEN) => Err(KanbanError::EmailTaken),
            Err(refusal) if refusal.is(codes::VALIDATION) => Err(refusal.invalid()),
            Err(refusal) => Err(refusal.unexpected()),
        }
    }

    /// Logs a user in.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: &Client,
    ) -> KanbanResult<Tokens> {
        let body = LoginRequest {
            email: Some(email.to_owned()).into(),
            password: Some(password.to_owned()).into(),
        };
        let request = client.on(self
            .http
            .post(self.url("/api/v1/auth/login/email"))
            .json(&body));
        let request = self.for_browsers(request).await;
        match self.send(request).await? {
            Ok(tokens) => Ok(tokens),
            Err(refusal) => Err(match refusal.sign_in() {
                Ok(err) => err,
                // Wrong or missing credentials, in whatever words.
                Err(refusal) if refusal.status.is_client_error() => KanbanError::WrongCredentials,
                Err(refusal) => refusal.unexpected(),
            }),
        }
    }

    /// Signs a user in with a Google ID token.
    pub async fn google_login(&self, id_token: &str, client: &Client) -> KanbanResult<Tokens> {
        let body = GoogleLoginRequest {
            id_token: Some(id_token.to_owned()).into(),
        };
        let request = client.on(self
            .http
            .post(self.url("/api/v1/auth/login/google"))
            .json(&body));
        let request = self.for_browsers(request).await;
        match self.send(request).await? {
            Ok(tokens) => Ok(tokens),
            Err(refusal) => Err(match refusal.sign_in() {
                Ok(err) => err,
                Err(refusal) if refusal.is(codes::GOOGLE_NOT_CONFIGURED) => {
                    KanbanError::NotImplemented("Google sign-in is not configured")
                }
                Err(refusal) if refusal.is(codes::GOOGLE_ACCOUNT_CONFLICT) => {
                    KanbanError::GoogleAccountConflict
                }
                // A token that is not accepted, in whatever words.
                Err(refusal) if refusal.status.is_client_error() => KanbanError::GoogleRefused,
                Err(refusal) => refusal.unexpected(),
            }),
        }
    }

    /// The user an access token belongs to.
    pub async fn me(&self, access_token: &str, client: &Client) -> KanbanResult<AccountUser> {
        let request = client.on(self
            .http
            .get(self.url("/api/v1/auth/me"))
            .bearer_auth(access_token));
        Self::as_user(self.send::<UserResponse>(request).await?)
    }

    /// Changes the names of the user the access token belongs to.
    pub async fn update_names(
        &self,
        access_token: &str,
        first_name: Option<&str>,
        last_name: Option<&str>,
        client: &Client,
    ) -> KanbanResult<AccountUser> {
        let body = ProfileUpdate {
            first_name: first_name.map(|name| name.to_owned().into()),
            last_name: last_name.map(|name| name.to_owned().into()),
        };
        let request = client.on(self
            .http
            .patch(self.url("/api/v1/auth/me"))
            .bearer_auth(access_token)
            .json(&body));
        Self::as_user(self.send::<UserResponse>(request).await?)
    }

    /// The answer of a call on the user's behalf: the user, or why not (the
    /// account manager refused the token: the caller is not authenticated).
    fn as_user(answer: Result<UserResponse, Refusal>) -> KanbanResult<AccountUser> {
        match answer {
            Ok(user) => Ok(user.into()),
            Err(refusal) if refusal.status == StatusCode::UNAUTHORIZED => {
                Err(KanbanError::Unauthenticated)
            }
            Err(refusal) if refusal.is(codes::VALIDATION) => Err(refusal.invalid()),
            Err(refusal) => Err(refusal.unexpected()),
        }
    }

    /// A sign-in for a seed-000 browser, which never refreshes: it carries
    /// this service's token (scope `sessions:extended`), so the account
    /// manager gives the session's access tokens the extended lifetime.
    /// Without credentials, or when no token can be had now, the sign-in
    /// goes on as an ordinary one.
    async fn for_browsers(&self, request: RequestBuilder) -> RequestBuilder {
        match self.credentials.token(false).await {
            Ok(token) => request.bearer_auth(token),
            Err(CredentialsError::NotConfigured) => request,
            Err(err) => {
                tracing::warn!(error = %err, "no service token: an ordinary session with the standard token lifetime");
                request
            }
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
    pub async fn user_by_email(
        &self,
        email: &str,
        client: &Client,
    ) -> KanbanResult<Option<AccountUser>> {
        for renew in [false, true] {
            let request = client.on(self
                .http
                .get(self.url("/api/v1/users/lookup"))
                .query(&[("email", email)])
                .bearer_auth(self.service_token(renew).await?));
            match self.send::<UserSummary>(request).await? {
                Ok(user) => return Ok(Some(user.into())),
                Err(refusal) if refusal.is(codes::USER_NOT_FOUND) => return Ok(None),
                // The cached token died (e.g. a key rotation): get a new one once.
                Err(refusal) if refusal.status == StatusCode::UNAUTHORIZED && !renew => continue,
                Err(refusal) => return Err(refusal.unexpected()),
            }
        }
        Err(KanbanError::Unavailable(UNAVAILABLE))
    }
}
