//! Seed 003, the `X-Access-Token` dialect: `POST /login` (201 with both
//! tokens), `POST /login/refresh` (201 with a new access token only) and
//! `DELETE /login`, and the same under `/api/v1/user/` as the seed's own
//! browser client calls them, with `POST /api/v1/user/signup` and
//! `GET /api/v1/user`. Errors are `{"status", "reason"}`.
//!
//! Its clients never receive a new refresh token, so its sessions keep
//! their first one (see [`SessionTerms::fixed_refresh`]); both tokens are
//! JWTs whose payload carries `expiration` in milliseconds and decodes
//! with plain base64. The client sends `X-Access-Token` on every call,
//! `null` or expired ones included: only the routes that need it read it.

use shared::required::Required;
use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::connections::while_connected;

use super::dialect::{self, Fields, Malformed, NotText};
use super::error::ApiError;
use super::{ApiTags, accounts, client_info, tokens};
use crate::accounts::service::{LoginPurpose, Registered};
use crate::accounts::{
    LoginError, MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MAX_USERNAME_CHARS,
    MIN_PASSWORD_CHARS, RegistrationError, RegistrationForm,
};
use crate::audit::{Event, EventKind};
use crate::state::AppState;
use crate::throttle::Rule;
use crate::tokens::sessions::{SessionTerms, TokenGrant};

/// Credentials: a username or an email, and the password.
#[derive(Object, Debug)]
#[oai(rename = "Seed003LoginForm")]
pub struct LoginForm {
    /// The account's username or email.
    pub username: Required<String>,
    pub password: Required<String>,
}

#[derive(Object, Debug)]
#[oai(rename = "Seed003RefreshForm")]
pub struct RefreshForm {
    /// The refresh token granted at login.
    pub refresh_token: Required<String>,
}

/// Sign-up: a username, an email and a password; names optional.
#[derive(Object, Debug)]
#[oai(rename = "Seed003SignupForm")]
pub struct SignupForm {
    pub username: Required<String>,
    pub email: Required<String>,
    pub password: Required<String>,
    #[oai(nullable)]
    pub first_name: Option<String>,
    #[oai(nullable)]
    pub last_name: Option<String>,
}

/// Both tokens: JWTs whose payload carries `expiration` (milliseconds
/// since the epoch). The refresh token stays the same for the session.
#[derive(Object, Debug)]
#[oai(rename = "Seed003Tokens")]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// A new access token.
#[derive(Object, Debug)]
#[oai(rename = "Seed003AccessToken")]
pub struct AccessToken {
    pub access_token: String,
}

/// The current user.
#[derive(Object, Debug)]
#[oai(rename = "Seed003User")]
pub struct User {
    pub id: i64,
    /// The account's username; its email when it has none.
    pub username: String,
    #[oai(nullable)]
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
}

/// Seed 003's error: `status` is `BAD REQUEST` for every 400 and 401 (as
/// the document shows), the status's own name otherwise.
#[derive(Object, Debug)]
#[oai(rename = "Seed003Failure")]
pub struct Failure {
    pub status: String,
    pub reason: String,
}

#[derive(ApiResponse)]
pub enum LoginAnswer {
    /// Distinct access and refresh tokens.
    #[oai(status = 201)]
    Created(Json<Tokens>),
}

#[derive(ApiResponse)]
pub enum RefreshAnswer {
    /// A new access token (the refresh token stays the same).
    #[oai(status = 201)]
    Created(Json<AccessToken>),
}

#[derive(ApiResponse)]
pub enum LogoutAnswer {
    /// The session ended: its refresh token and access tokens stop working.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum SignupAnswer {
    /// The account exists; its first session is open.
    #[oai(status = 201)]
    Created(Json<Tokens>),
    /// The account exists and logs in once its email is verified (only
    /// when verification is required).
    #[oai(status = 202)]
    VerificationSent(Json<Failure>),
}

#[derive(ApiResponse)]
pub enum UserAnswer {
    #[oai(status = 200)]
    Ok(Json<User>),
}

/// How seed-003 routes refuse (documents the answers of [`Refused`]).
#[derive(ApiResponse)]
#[allow(dead_code)]
pub enum Refusals {
    /// A field missing or invalid, or a body that is not JSON.
    #[oai(status = 400)]
    Invalid(Json<Failure>),
    /// Wrong credentials, an invalid or expired token, a disabled or banned
    /// account.
    #[oai(status = 401)]
    Unauthorized(Json<Failure>),
    /// The username or email is taken.
    #[oai(status = 409)]
    Conflict(Json<Failure>),
    /// Over a rate limit (`Retry-After` says when to try again).
    #[oai(status = 429)]
    Throttled(Json<Failure>),
    /// Something failed on our side.
    #[oai(status = 500)]
    Internal(Json<Failure>),
    /// Sign-ins are saturated, or revocations cannot be checked now.
    #[oai(status = 503)]
    Unavailable(Json<Failure>),
}

/// A seed-003 refusal, ready to send.
pub type Refused = dialect::Refused<Refusals>;

type Result<T> = std::result::Result<T, Refused>;

/// The header seed 003's clients carry their access token in.
const ACCESS_HEADER: &str = "x-access-token";

fn failure(status: u16, reason: impl Into<String>) -> Refused {
    let name = match status {
        400 | 401 => "BAD REQUEST".to_owned(),
        _ => poem::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("ERROR")
            .to_uppercase(),
    };
    Refused::json(
        status,
        serde_json::json!({ "status": name, "reason": reason.into() }),
    )
}

/// The named fields, each a non-blank string, in order; the first that is
/// not is named in the refusal.
fn required<S, const N: usize>(body: &Fields<S>, names: [&str; N]) -> Result<[String; N]> {
    if let Err(malformed) = &body.fields {
        return Err(failure(
            400,
            match malformed {
                Malformed::Unparsable => "The body is not valid JSON.",
                Malformed::NotAnObject => "The body must be a JSON object.",
            },
        ));
    }
    let mut values = Vec::with_capacity(N);
    for name in names {
        match body.text(name) {
            Ok(Some(value)) if !value.trim().is_empty() => values.push(value),
            Ok(_) => return Err(failure(400, format!("{name} is required."))),
            Err(NotText) => return Err(failure(400, format!("{name} must be a string."))),
        }
    }
    values
        .try_into()
        .map_err(|_| failure(500, "Something went wrong on our side."))
}

/// An optional text field (absent, null or blank: none).
fn optional<S>(body: &Fields<S>, name: &str) -> Result<Option<String>> {
    body.text(name)
        .map(|value| value.filter(|v| !v.trim().is_empty()))
        .map_err(|NotText| failure(400, format!("{name} must be a string.")))
}

fn registration(err: RegistrationError) -> Refused {
    use RegistrationError::*;
    let reason = match err {
        EmailTaken => return failure(409, "This email is already in use."),
        UsernameTaken => return failure(409, "This username is already in use."),
        EmailMissing => "email is required.".to_owned(),
        PasswordMissing | ConfirmationMissing => "password is required.".to_owned(),
        EmailTooLong => format!("email must have at most {MAX_EMAIL_CHARS} characters."),
        EmailInvalid => "email is not a valid email address.".to_owned(),
        UsernameTooLong => format!("username must have at most {MAX_USERNAME_CHARS} characters."),
        UsernameInvalid => {
            "username may contain only letters, digits and @ . + - _ characters.".to_owned()
        }
        PasswordTooShort => {
            format!("password must have at least {MIN_PASSWORD_CHARS} characters.")
        }
        PasswordTooLong => format!("password must have at most {MAX_PASSWORD_CHARS} characters."),
        PasswordUnprintable => "password may not be blank or hold control characters.".to_owned(),
        PasswordTooCommon => "password is too common.".to_owned(),
        PasswordsDiffer => "The passwords do not match.".to_owned(),
        NameTooLong => format!("Names must have at most {MAX_NAME_CHARS} characters."),
    };
    failure(400, reason)
}

/// Any refusal of the shared API edge, in seed 003's words.
impl From<ApiError> for Refused {
    fn from(err: ApiError) -> Refused {
        let words = |err| {
            Ok(match err {
                ApiError::Registration(err) => registration(err),
                ApiError::Login(LoginError::Disabled) => failure(401, "This account is disabled."),
                ApiError::Login(LoginError::Banned) => failure(401, "This account is banned."),
                ApiError::Login(LoginError::EmailUnverified) => {
                    failure(401, "The email address is not verified yet.")
                }
                ApiError::Login(LoginError::BadCredentials | LoginError::CredentialsMissing) => {
                    failure(401, "Invalid username or password.")
                }
                ApiError::InvalidRefreshToken => {
                    failure(401, "The refresh token is invalid or expired.")
                }
                ApiError::Unauthenticated => {
                    failure(401, "The access token is missing, invalid or expired.")
                }
                ApiError::RateLimited(exceeded) => failure(
                    429,
                    format!(
                        "Too many attempts; try again in {} seconds.",
                        exceeded.retry_after.as_secs().max(1)
                    ),
                ),
                ApiError::Busy => failure(503, "Too many sign-ins at once; try again shortly."),
                ApiError::Unavailable => {
                    failure(503, "The service is unavailable; try again shortly.")
                }
                ApiError::ClientGone => failure(400, "The client closed the connection."),
                ApiError::Internal(err) => {
                    tracing::error!(error = %err, "request failed");
                    failure(500, "Something went wrong on our side.")
                }
                other => return Err(other),
            })
        };
        Refused::of(err, words, |status, reason| failure(status, reason))
    }
}

/// The paths of seed 003's routes.
pub const PATHS: &[&str] = &[
    "/login",
    "/login/refresh",
    "/api/v1/user/login",
    "/api/v1/user/login/refresh",
    "/api/v1/user/signup",
    "/api/v1/user",
];

/// A refusal the framework made itself, in seed 003's shape.
pub fn framework_refusal(status: poem::http::StatusCode) -> poem::Response {
    use poem::IntoResponse;
    failure(status.as_u16(), dialect::framework_reason(status)).into_response()
}

/// The access token of `X-Access-Token`, if any (the client's `null`
/// counts as none).
fn access_token(req: &Request) -> Option<&str> {
    req.headers()
        .get(ACCESS_HEADER)?
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|token| !token.is_empty() && *token != "null" && *token != "undefined")
}

/// Seed 003's sessions keep their refresh token; their access tokens have
/// the standard lifetime.
const TERMS: SessionTerms = SessionTerms {
    fixed_refresh: true,
    extended_access: false,
};

fn tokens(grant: TokenGrant) -> Json<Tokens> {
    Json(Tokens {
        access_token: grant.access.token,
        refresh_token: grant.refresh_token,
    })
}

async fn login(state: &AppState, req: &Request, body: &Fields<LoginForm>) -> Result<LoginAnswer> {
    let [username, password] = required(body, ["username", "password"])?;
    let grant = accounts::sign_in(
        state,
        req,
        Some(username),
        Some(password),
        LoginPurpose::LogIn,
        TERMS,
    )
    .await?;
    Ok(LoginAnswer::Created(tokens(grant)))
}

async fn refresh(
    state: &AppState,
    req: &Request,
    body: &Fields<RefreshForm>,
) -> Result<RefreshAnswer> {
    let [refresh] = required(body, ["refresh_token"])?;
    let grant = tokens::refresh_grant(state, req, &refresh, TERMS).await?;
    Ok(RefreshAnswer::Created(Json(AccessToken {
        access_token: grant.access.token,
    })))
}

/// Logout: the session of the refresh token ends, and the access token of
/// `X-Access-Token` with its own session. Either one proves the right to
/// end its session (an expired access token does not stop a logout); a
/// refresh token of another user than a valid access token's is ignored.
async fn logout(
    state: &AppState,
    req: &Request,
    body: &Fields<RefreshForm>,
) -> Result<LogoutAnswer> {
    let [refresh] = required(body, ["refresh_token"])?;
    let user = match access_token(req) {
        Some(token) => match state.authenticator.authenticate(token).await {
            Ok(user) => Some(user.claims),
            Err(failure) if failure.is_unavailable() => return Err(ApiError::Unavailable.into()),
            Err(_) => None,
        },
        None => None,
    };
    let holder = state
        .sessions
        .refresh_info(&refresh, &state.accounts())
        .await
        .map_err(ApiError::Internal)?
        .map(|info| info.user_id);
    let user_id = match (&user, holder) {
        (Some(claims), _) => claims.user_id(),
        (None, Some(holder)) => Some(holder),
        (None, None) => return Err(ApiError::InvalidRefreshToken.into()),
    };
    if let Some(claims) = &user {
        state
            .sessions
            .logout(claims)
            .await
            .map_err(ApiError::from)?;
    }
    if holder.is_some() && holder == user_id {
        state
            .sessions
            .end_by_refresh_token(&refresh)
            .await
            .map_err(ApiError::from)?;
    }
    let event = Event::new(EventKind::Logout).by(user_id).on(user_id);
    let origin = client_info(state, req).origin();
    state.audit.record_now(&state.db, event, &origin).await;
    Ok(LogoutAnswer::Done)
}

pub struct XAccessApi;

#[OpenApi(tag = "ApiTags::Seed003")]
impl XAccessApi {
    /// Log in with a username (or email) and password (seed 003)
    #[oai(path = "/login", method = "post")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<LoginForm>,
    ) -> Result<LoginAnswer> {
        login(&state, req, &body).await
    }

    /// Get a new access token (seed 003)
    ///
    /// The refresh token is not rotated: a seed-003 client keeps the one
    /// it got at login until it expires or the session ends.
    #[oai(path = "/login/refresh", method = "post")]
    async fn refresh(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<RefreshForm>,
    ) -> Result<RefreshAnswer> {
        refresh(&state, req, &body).await
    }

    /// Log out (seed 003)
    ///
    /// `X-Access-Token` and the refresh token in the body; either one,
    /// valid, ends its session.
    #[oai(path = "/login", method = "delete")]
    async fn logout(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<RefreshForm>,
    ) -> Result<LogoutAnswer> {
        logout(&state, req, &body).await
    }

    /// Log in (seed 003, as its browser client calls it)
    #[oai(path = "/api/v1/user/login", method = "post")]
    async fn client_login(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<LoginForm>,
    ) -> Result<LoginAnswer> {
        login(&state, req, &body).await
    }

    /// Get a new access token (seed 003, as its browser client calls it)
    #[oai(path = "/api/v1/user/login/refresh", method = "post")]
    async fn client_refresh(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<RefreshForm>,
    ) -> Result<RefreshAnswer> {
        refresh(&state, req, &body).await
    }

    /// Log out (seed 003, as its browser client calls it)
    #[oai(path = "/api/v1/user/login", method = "delete")]
    async fn client_logout(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<RefreshForm>,
    ) -> Result<LogoutAnswer> {
        logout(&state, req, &body).await
    }

    /// Sign up and get both tokens (seed 003)
    #[oai(path = "/api/v1/user/signup", method = "post")]
    async fn signup(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<SignupForm>,
    ) -> Result<SignupAnswer> {
        let [username, email, password] = required(&body, ["username", "email", "password"])?;
        let form = RegistrationForm {
            email: Some(email),
            username: Some(username),
            password2: Some(password.clone()),
            password: Some(password),
            first_name: optional(&body, "first_name")?,
            last_name: optional(&body, "last_name")?,
        };
        super::limit(&state, req, Rule::Register).await?;
        let client = client_info(&state, req).with_terms(TERMS);
        let accounts = state.accounts();
        let registered = while_connected(req, accounts.register(form, &client)).await;
        let registered = registered
            .ok_or(ApiError::ClientGone)?
            .map_err(ApiError::from)?;
        Ok(match registered {
            Registered::SignedIn(grant) => SignupAnswer::Created(tokens(grant)),
            Registered::VerificationSent { .. } => SignupAnswer::VerificationSent(Json(Failure {
                status: "ACCEPTED".to_owned(),
                reason: "Check your inbox and follow the link to verify your email address."
                    .to_owned(),
            })),
        })
    }

    /// The current user (seed 003)
    ///
    /// `X-Access-Token: <access token>`.
    #[oai(path = "/api/v1/user", method = "get")]
    async fn user(&self, state: Data<&Arc<AppState>>, req: &Request) -> Result<UserAnswer> {
        let token = access_token(req).ok_or(ApiError::Unauthenticated)?;
        let account = dialect::account_of(&state, token).await?;
        Ok(UserAnswer::Ok(Json(User {
            id: account.id,
            username: account
                .username
                .or_else(|| account.email.clone())
                .unwrap_or_default(),
            email: account.email,
            first_name: account.first_name,
            last_name: account.last_name,
        })))
    }
}
