//! Seed 001, the Django REST framework "simplejwt" dialect: `/auth/register`,
//! `/auth/token`, `/auth/token/refresh`, `/auth/token/verify` and
//! `/auth/getuser`, over the same accounts and sessions as every other
//! dialect. Bodies are JSON or form-encoded; errors are DRF's: per-field
//! lists (`{"username": ["This field is required."]}`) or `{"detail"}`.

use shared::required::Required;
use std::collections::BTreeMap;
use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Union};

use super::dialect::{self, Fields, Malformed, NotText, bearer};
use super::error::ApiError;
use super::{ApiTags, accounts, client_info, tokens};
use crate::accounts::service::{LoginPurpose, Registered};
use crate::accounts::{
    LoginError, MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MAX_USERNAME_CHARS,
    MIN_PASSWORD_CHARS, RegistrationError, RegistrationForm,
};
use crate::state::AppState;
use crate::throttle::Rule;
use crate::tokens::sessions::{SessionTerms, TokenGrant};
use shared::connections::while_connected;

/// Registration: a username and a password (an email and names optional).
#[derive(Object, Debug)]
#[oai(rename = "Seed001RegisterForm")]
pub struct RegisterForm {
    pub username: Required<String>,
    pub password: Required<String>,
    #[oai(nullable)]
    pub email: Option<String>,
    #[oai(nullable)]
    pub first_name: Option<String>,
    #[oai(nullable)]
    pub last_name: Option<String>,
}

/// Credentials: the username (or the account's email) and the password.
#[derive(Object, Debug)]
#[oai(rename = "Seed001TokenForm")]
pub struct TokenForm {
    pub username: Required<String>,
    pub password: Required<String>,
}

#[derive(Object, Debug)]
#[oai(rename = "Seed001RefreshForm")]
pub struct RefreshForm {
    pub refresh: Required<String>,
}

#[derive(Object, Debug)]
#[oai(rename = "Seed001VerifyForm")]
pub struct VerifyForm {
    pub token: Required<String>,
}

/// A token pair: the refresh token (opaque, rotated at each refresh) and
/// the access token (a JWT every service verifies).
#[derive(Object, Debug)]
#[oai(rename = "Seed001TokenPair")]
pub struct TokenPair {
    pub refresh: String,
    pub access: String,
}

#[derive(Object, Debug)]
#[oai(rename = "Seed001Verified")]
pub struct Verified {}

#[derive(Object, Debug)]
#[oai(rename = "Seed001CurrentUser")]
pub struct CurrentUser {
    /// The account's username; its email when it has none.
    pub username: String,
}

/// DRF's error detail.
#[derive(Object, Debug)]
#[oai(rename = "Seed001Detail")]
pub struct Detail {
    pub detail: String,
    #[oai(skip_serializing_if_is_none)]
    pub code: Option<String>,
}

#[derive(ApiResponse)]
pub enum RegisterAnswer {
    /// The account exists; its first session is open.
    #[oai(status = 201)]
    Created(Json<TokenPair>),
    /// The account exists and logs in once its email is verified (only
    /// when verification is required).
    #[oai(status = 202)]
    VerificationSent(Json<Detail>),
}

/// A seed-001 400: the invalid fields, each with its messages, or (for a
/// body that is not a JSON object) DRF's `{detail, code: "parse_error"}`.
#[derive(Union)]
#[oai(rename = "Seed001Invalid")]
#[allow(dead_code)]
pub enum Invalid {
    Fields(BTreeMap<String, Vec<String>>),
    Detail(Detail),
}

/// How seed-001 routes refuse (documents the answers of [`Refused`]).
#[derive(ApiResponse)]
#[allow(dead_code)]
pub enum Refusals {
    /// Fields missing or invalid, per field; or a body that is not JSON.
    #[oai(status = 400)]
    Invalid(Json<Invalid>),
    /// Wrong credentials, an invalid or expired token, a disabled or banned
    /// account.
    #[oai(status = 401)]
    Unauthorized(Json<Detail>),
    /// The username or email is taken.
    #[oai(status = 409)]
    Conflict(Json<Detail>),
    /// Over a rate limit (`Retry-After` says when to try again).
    #[oai(status = 429)]
    Throttled(Json<Detail>),
    /// Something failed on our side.
    #[oai(status = 500)]
    Internal(Json<Detail>),
    /// Sign-ins are saturated, or revocations cannot be checked now.
    #[oai(status = 503)]
    Unavailable(Json<Detail>),
}

/// A seed-001 refusal, ready to send.
pub type Refused = dialect::Refused<Refusals>;

type Result<T> = std::result::Result<T, Refused>;

const REQUIRED: &str = "This field is required.";
const NOT_NULL: &str = "This field may not be null.";
const NOT_BLANK: &str = "This field may not be blank.";
const NOT_TEXT: &str = "Not a valid string.";
const NO_ACCOUNT: &str = "No active account found with the given credentials";
const TOKEN_NOT_VALID: &str = "Token is invalid or expired";

fn respond(status: u16, body: serde_json::Value) -> Refused {
    Refused::json(status, body)
}

fn detail(status: u16, detail: &str, code: Option<&str>) -> Refused {
    let mut body = serde_json::json!({ "detail": detail });
    if let Some(code) = code {
        body["code"] = code.into();
    }
    respond(status, body)
}

fn field_errors(errors: BTreeMap<String, Vec<String>>) -> Refused {
    respond(400, serde_json::to_value(errors).unwrap_or_default())
}

fn one_field(field: &str, message: impl Into<String>) -> Refused {
    field_errors(BTreeMap::from([(field.to_owned(), vec![message.into()])]))
}

/// The named fields, each required and a non-blank string; DRF's
/// per-field errors for all that are not, at once.
fn required<S>(body: &Fields<S>, names: &[&str]) -> Result<Vec<String>> {
    if let Err(malformed) = &body.fields {
        let why = match malformed {
            Malformed::Unparsable => "JSON parse error.",
            Malformed::NotAnObject => "Invalid data. Expected a dictionary.",
        };
        return Err(detail(400, why, Some("parse_error")));
    }
    let mut values = Vec::new();
    let mut errors = BTreeMap::new();
    for name in names {
        let problem = match body.text(name) {
            Ok(Some(value)) if !value.trim().is_empty() => {
                values.push(value);
                continue;
            }
            Ok(Some(_)) => NOT_BLANK,
            Ok(None) if body.is_null(name) => NOT_NULL,
            Ok(None) => REQUIRED,
            Err(NotText) => NOT_TEXT,
        };
        errors.insert((*name).to_owned(), vec![problem.to_owned()]);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(field_errors(errors))
    }
}

/// An optional text field (absent, null or blank: none).
fn optional<S>(body: &Fields<S>, name: &str) -> Result<Option<String>> {
    body.text(name)
        .map(|value| value.filter(|v| !v.trim().is_empty()))
        .map_err(|NotText| one_field(name, NOT_TEXT))
}

fn registration(err: RegistrationError) -> Refused {
    use RegistrationError::*;
    let (field, message) = match err {
        EmailTaken | UsernameTaken => return detail(409, "User already exists", None),
        EmailMissing => ("username", REQUIRED.to_owned()),
        PasswordMissing | ConfirmationMissing => ("password", REQUIRED.to_owned()),
        EmailTooLong => (
            "email",
            format!("Ensure this field has no more than {MAX_EMAIL_CHARS} characters."),
        ),
        EmailInvalid => ("email", "Enter a valid email address.".to_owned()),
        UsernameTooLong => (
            "username",
            format!("Ensure this field has no more than {MAX_USERNAME_CHARS} characters."),
        ),
        UsernameInvalid => (
            "username",
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
                .to_owned(),
        ),
        PasswordTooShort => (
            "password",
            format!(
                "This password is too short. It must contain at least {MIN_PASSWORD_CHARS} characters."
            ),
        ),
        PasswordTooLong => (
            "password",
            format!("Ensure this field has no more than {MAX_PASSWORD_CHARS} characters."),
        ),
        PasswordUnprintable => (
            "password",
            "This password may not be blank or contain control characters.".to_owned(),
        ),
        PasswordTooCommon => ("password", "This password is too common.".to_owned()),
        PasswordsDiffer => ("password", "The two password fields didn't match.".to_owned()),
        NameTooLong => (
            "non_field_errors",
            format!("Ensure names have no more than {MAX_NAME_CHARS} characters."),
        ),
    };
    one_field(field, message)
}

/// Any refusal of the shared API edge, in seed 001's words.
impl From<ApiError> for Refused {
    fn from(err: ApiError) -> Refused {
        let words = |err| {
            Ok(match err {
                ApiError::Registration(err) => registration(err),
                ApiError::Login(LoginError::Disabled) => {
                    detail(401, "User account is disabled.", Some("user_inactive"))
                }
                ApiError::Login(LoginError::Banned) => {
                    detail(401, "User has been banned.", Some("user_banned"))
                }
                ApiError::Login(LoginError::EmailUnverified) => detail(
                    401,
                    "Email address is not verified.",
                    Some("email_unverified"),
                ),
                ApiError::Login(LoginError::BadCredentials | LoginError::CredentialsMissing) => {
                    detail(401, NO_ACCOUNT, Some("no_active_account"))
                }
                ApiError::InvalidRefreshToken | ApiError::Unauthenticated => {
                    detail(401, TOKEN_NOT_VALID, Some("token_not_valid"))
                }
                ApiError::RateLimited(exceeded) => detail(
                    429,
                    &format!(
                        "Request was throttled. Expected available in {} seconds.",
                        exceeded.retry_after.as_secs().max(1)
                    ),
                    Some("throttled"),
                ),
                ApiError::Busy => detail(
                    503,
                    "Too many sign-ins at once; try again shortly.",
                    Some("busy"),
                ),
                ApiError::Unavailable => detail(
                    503,
                    "Service temporarily unavailable, try again later.",
                    Some("service_unavailable"),
                ),
                ApiError::ClientGone => detail(400, "The client closed the connection.", None),
                ApiError::Internal(err) => {
                    tracing::error!(error = %err, "request failed");
                    detail(500, "A server error occurred.", Some("error"))
                }
                other => return Err(other),
            })
        };
        Refused::of(err, words, |status, reason| detail(status, reason, None))
    }
}

/// The paths of seed 001's routes.
pub const PATHS: &[&str] = &[
    "/auth/register",
    "/auth/token",
    "/auth/token/refresh",
    "/auth/token/verify",
    "/auth/getuser",
];

/// A refusal the framework made itself, in seed 001's shape.
pub fn framework_refusal(status: poem::http::StatusCode) -> poem::Response {
    use poem::IntoResponse;
    detail(status.as_u16(), dialect::framework_reason(status), None).into_response()
}

fn pair(grant: TokenGrant) -> Json<TokenPair> {
    Json(TokenPair {
        refresh: grant.refresh_token,
        access: grant.access.token,
    })
}

pub struct SimpleJwtApi;

#[OpenApi(tag = "ApiTags::Seed001")]
impl SimpleJwtApi {
    /// Register and get a token pair (seed 001)
    #[oai(path = "/auth/register", method = "post")]
    async fn register(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<RegisterForm>,
    ) -> Result<RegisterAnswer> {
        let [username, password]: [String; 2] = required(&body, &["username", "password"])?
            .try_into()
            .map_err(|_| detail(500, "A server error occurred.", None))?;
        let form = RegistrationForm {
            email: optional(&body, "email")?,
            username: Some(username),
            password2: Some(password.clone()),
            password: Some(password),
            first_name: optional(&body, "first_name")?,
            last_name: optional(&body, "last_name")?,
        };
        super::limit(&state, req, Rule::Register).await?;
        let client = client_info(&state, req);
        let accounts = state.accounts();
        let registered = while_connected(req, accounts.register(form, &client)).await;
        let registered = registered
            .ok_or(ApiError::ClientGone)?
            .map_err(ApiError::from)?;
        Ok(match registered {
            Registered::SignedIn(grant) => RegisterAnswer::Created(pair(grant)),
            Registered::VerificationSent { .. } => RegisterAnswer::VerificationSent(Json(Detail {
                detail: "Verification email sent.".to_owned(),
                code: Some("verification_sent".to_owned()),
            })),
        })
    }

    /// Log in: a token pair for a username (or email) and password (seed 001)
    #[oai(path = "/auth/token", method = "post")]
    async fn token(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<TokenForm>,
    ) -> Result<Json<TokenPair>> {
        let [username, password]: [String; 2] = required(&body, &["username", "password"])?
            .try_into()
            .map_err(|_| detail(500, "A server error occurred.", None))?;
        let grant = accounts::sign_in(
            &state,
            req,
            Some(username),
            Some(password),
            LoginPurpose::LogIn,
            SessionTerms::default(),
        )
        .await?;
        Ok(pair(grant))
    }

    /// Exchange a refresh token for a new pair (seed 001)
    ///
    /// The refresh token is rotated, as for every dialect.
    #[oai(path = "/auth/token/refresh", method = "post")]
    async fn refresh(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<RefreshForm>,
    ) -> Result<Json<TokenPair>> {
        let [refresh]: [String; 1] = required(&body, &["refresh"])?
            .try_into()
            .map_err(|_| detail(500, "A server error occurred.", None))?;
        let grant = tokens::refresh_grant(&state, req, &refresh, SessionTerms::default()).await?;
        Ok(pair(grant))
    }

    /// Check an access token (seed 001)
    ///
    /// `{}` for a valid access token; 401 for anything else.
    #[oai(path = "/auth/token/verify", method = "post")]
    async fn verify(
        &self,
        state: Data<&Arc<AppState>>,
        body: Fields<VerifyForm>,
    ) -> Result<Json<Verified>> {
        let [token]: [String; 1] = required(&body, &["token"])?
            .try_into()
            .map_err(|_| detail(500, "A server error occurred.", None))?;
        match state.authenticator.authenticate(&token).await {
            Ok(_) => Ok(Json(Verified {})),
            Err(failure) if failure.is_unavailable() => Err(ApiError::Unavailable.into()),
            Err(_) => Err(ApiError::Unauthenticated.into()),
        }
    }

    /// The current user's username (seed 001)
    ///
    /// `Authorization: Bearer <access token>`.
    #[oai(path = "/auth/getuser", method = "get")]
    async fn get_user(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
    ) -> Result<Json<CurrentUser>> {
        let Some(token) = bearer(req) else {
            return Err(detail(
                401,
                "Authentication credentials were not provided.",
                Some("not_authenticated"),
            ));
        };
        let account = dialect::account_of(&state, token).await?;
        let username = account.username.or(account.email).unwrap_or_default();
        Ok(Json(CurrentUser { username }))
    }
}
