//! How the service's errors are answered: seed 004's `{msg, humanMsg}` plus
//! a machine-readable `code` (see [`shared::error::codes`]), under the
//! shared [`ErrorResponse`]; and the OAuth shape `{error,
//! error_description}` of the RFC 7662/7009 endpoints. Every sentence a
//! caller reads is chosen here; the domain only says which rule refused.

use poem::Response;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::{ApiResponse, Object};
use shared::RevocationError;
use shared::error::{ErrorBody, ErrorResponse, Statuses, check_documented, codes, documented};
use std::marker::PhantomData;

use crate::accounts::google::GoogleError;
use crate::accounts::lifecycle::{ChangeError, MAX_BAN_REASON_CHARS};
use crate::accounts::{
    AccountError, LoginError, MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS,
    MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS, RegistrationError,
};
use crate::tokens::oauth::DeskError;
use crate::tokens::revocation::RevocationOutcome;
use crate::tokens::{ClientError, RefreshError};

/// Where a disabled account is sent to reactivate itself.
pub const REACTIVATE_PATH: &str = "/api/v1/reactivate/email";
/// Where an unverified account asks for a new verification link.
pub const VERIFY_EMAIL_PATH: &str = "/api/v1/auth/verify-email";

/// Every way a request to this service can fail, as the handlers say it.
/// Answered as an [`ErrorResponse`]; internal errors are logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("registration refused: {0:?}")]
    Registration(RegistrationError),
    #[error("login refused: {0:?}")]
    Login(LoginError),
    #[error("Google sign-in refused: {0:?}")]
    Google(GoogleError),
    /// Unknown, expired, revoked or reused refresh token.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// The access token names no live user.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The caller is authenticated but not an admin.
    #[error("admin role required")]
    AdminRequired,
    /// Unknown client id or wrong secret.
    #[error("invalid client credentials")]
    InvalidClient,
    /// The service token lacks the scope the route needs.
    #[error("missing scope {0}")]
    MissingScope(&'static str),
    #[error("user not found")]
    UserNotFound,
    #[error("signing key not found")]
    KeyNotFound,
    #[error("session not found")]
    SessionNotFound,
    /// The password given to confirm a change is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// A reset or verification token that is unknown, used or expired.
    #[error("invalid link token")]
    InvalidLinkToken,
    /// The change would leave no active admin.
    #[error("last active admin")]
    LastAdmin,
    #[error("admin change refused: {0:?}")]
    Change(ChangeError),
    /// A field the caller must send is missing.
    #[error("{0:?} missing")]
    Missing(Field),
    /// `ids` is not a comma-separated list of integers.
    #[error("invalid ids")]
    InvalidIds,
    /// An audit query's `type` names no event type.
    #[error("unknown event type")]
    UnknownEventType,
    /// More ids than one look-up answers for.
    #[error("more than {0} ids")]
    TooManyIds(usize),
    /// The revocation state cannot be read or spread (Redis down, or not
    /// current yet).
    #[error("revocation state unavailable")]
    Unavailable,
    /// Too many passwords are being hashed at once.
    #[error("busy")]
    Busy,
    /// Over a rate limit.
    #[error("rate limited: {0:?}")]
    RateLimited(crate::throttle::Exceeded),
    /// The client hung up before the answer was ready (nobody reads it;
    /// the request log shows it).
    #[error("client gone")]
    ClientGone,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The fields a request may lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    RefreshToken,
    Token,
    ClientCredentials,
    Email,
    Ids,
    IdToken,
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Registration(err) => ApiError::Registration(err),
            AccountError::Login(err) => ApiError::Login(err),
            AccountError::Google(err) => ApiError::Google(err),
            AccountError::Refresh(err) => err.into(),
            AccountError::WrongPassword => ApiError::WrongPassword,
            AccountError::InvalidAccountToken => ApiError::InvalidLinkToken,
            AccountError::LastAdmin => ApiError::LastAdmin,
            AccountError::Change(err) => ApiError::Change(err),
            AccountError::UserNotFound => ApiError::UserNotFound,
            AccountError::SessionNotFound => ApiError::SessionNotFound,
            AccountError::Unavailable => ApiError::Unavailable,
            AccountError::Busy => ApiError::Busy,
            AccountError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<RefreshError> for ApiError {
    fn from(err: RefreshError) -> Self {
        match err {
            RefreshError::Invalid | RefreshError::Ended { .. } | RefreshError::Reused { .. } => {
                ApiError::InvalidRefreshToken
            }
            RefreshError::Unavailable => ApiError::Unavailable,
            RefreshError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(err: ClientError) -> Self {
        match err {
            ClientError::InvalidClient => ApiError::InvalidClient,
            ClientError::Internal(err) => ApiError::Internal(err),
        }
    }
}

/// A revocation the caller asked for (logout): recorded and spread, or not.
impl From<RevocationOutcome> for ApiError {
    fn from(err: RevocationOutcome) -> Self {
        match err {
            RevocationOutcome::Database(err) => ApiError::Internal(err.into()),
            RevocationOutcome::Spread(err) => not_spread(err),
        }
    }
}

/// A revocation this service made was recorded but could not be spread
/// yet: 503, the caller may retry.
pub fn not_spread(err: RevocationError) -> ApiError {
    match err {
        RevocationError::Unavailable => ApiError::Unavailable,
        // Spreading a fact never answers "revoked"; if it did, it is a bug.
        RevocationError::Revoked => {
            ApiError::Internal(anyhow::anyhow!("spreading a revocation answered `revoked`"))
        }
    }
}

fn bad(msg: String, human: &str) -> ErrorResponse {
    ErrorResponse::BadRequest(Json(
        ErrorBody::new(msg, human).with_code(codes::VALIDATION),
    ))
}

fn registration(err: RegistrationError) -> ErrorResponse {
    use RegistrationError::*;
    match err {
        EmailMissing => bad(
            "Bad Request: Email is missing.".into(),
            "Please enter an email for your account",
        ),
        PasswordMissing => bad(
            "Bad Request: Password is missing.".into(),
            "Please enter a password for your account",
        ),
        ConfirmationMissing => bad(
            "Bad Request: Password2 is missing.".into(),
            "Please confirm your password",
        ),
        EmailTooLong => bad(
            format!("Bad Request: Email is longer than {MAX_EMAIL_CHARS} characters."),
            "Your email address is too long",
        ),
        EmailInvalid => bad(
            "Bad Request: Email is invalid.".into(),
            "Please enter a valid email address",
        ),
        PasswordTooShort => bad(
            format!("Bad Request: Password must be {MIN_PASSWORD_CHARS} or more characters."),
            "Your password must be at least 6 characters long",
        ),
        PasswordTooLong => bad(
            format!("Bad Request: Password must be at most {MAX_PASSWORD_CHARS} characters."),
            "Your password is too long",
        ),
        PasswordUnprintable => bad(
            "Bad Request: Password must not be blank or contain control characters.".into(),
            "Please choose a password of printable characters",
        ),
        PasswordTooCommon => bad(
            "Bad Request: Password is too common.".into(),
            "This password is too easy to guess. Please choose another one",
        ),
        PasswordsDiffer => bad(
            "Bad Request: Passwords do not match.".into(),
            "The two passwords you entered do not match",
        ),
        NameTooLong => bad(
            format!("Bad Request: Name is longer than {MAX_NAME_CHARS} characters."),
            "Your name is too long",
        ),
        UsernameTooLong => bad(
            format!("Bad Request: Username is longer than {MAX_USERNAME_CHARS} characters."),
            "Your username is too long",
        ),
        UsernameInvalid => bad(
            "Bad Request: Username may contain only letters, digits and @/./+/-/_.".into(),
            "Please choose a username of letters, digits and @ . + - _",
        ),
        UsernameTaken => ErrorResponse::Conflict(Json(
            ErrorBody::new(
                "Conflict: Username is taken.",
                "This username is already taken.",
            )
            .with_code(codes::USERNAME_TAKEN),
        )),
        EmailTaken => ErrorResponse::Conflict(Json(
            ErrorBody::new(
                "Conflict: User email already has existing email",
                "This email has already been register.",
            )
            .with_code(codes::EMAIL_TAKEN),
        )),
    }
}

fn login(err: LoginError) -> ErrorResponse {
    match err {
        LoginError::CredentialsMissing => bad(
            "Bad Request: Email and password required.".into(),
            "Please enter your account information",
        ),
        LoginError::BadCredentials => ErrorResponse::BadRequest(Json(
            ErrorBody::new(
                "Bad Request: Invalid email or password.",
                "The email or password you entered is incorrect",
            )
            .with_code(codes::INVALID_CREDENTIALS),
        )),
        LoginError::Disabled => ErrorResponse::Unauthorized(Json(
            ErrorBody::new(
                "Unauthorized: User account is disabled.",
                "This account is disabled.",
            )
            .with_resolve(REACTIVATE_PATH)
            .with_code(codes::ACCOUNT_DISABLED),
        )),
        LoginError::Banned => ErrorResponse::Forbidden(Json(
            ErrorBody::new(
                "Forbidden: User has been banned.",
                "This account is suspended.",
            )
            .with_code(codes::ACCOUNT_BANNED),
        )),
        LoginError::EmailUnverified => ErrorResponse::Forbidden(Json(
            ErrorBody::new(
                "Forbidden: Email address is not verified.",
                "Please verify your email address first. We can send you a new link.",
            )
            .with_resolve(VERIFY_EMAIL_PATH)
            .with_code(codes::EMAIL_UNVERIFIED),
        )),
    }
}

fn google(err: GoogleError) -> ErrorResponse {
    let invalid = |why: &str| {
        ErrorResponse::Unauthorized(Json(
            ErrorBody::new(
                format!("Unauthorized: Invalid Google ID token: {why}."),
                "Google sign-in failed. Please try again.",
            )
            .with_code(codes::INVALID_GOOGLE_TOKEN),
        ))
    };
    match err {
        GoogleError::Malformed => invalid("it is malformed or lacks sub or email"),
        GoogleError::UnknownKey => invalid("it is signed with a key Google does not publish"),
        GoogleError::BadSignature => invalid("its signature does not verify"),
        GoogleError::Expired => invalid("it has expired"),
        GoogleError::WrongIssuer => invalid("it is not issued by Google"),
        GoogleError::WrongAudience => invalid("it is issued for another client"),
        GoogleError::EmailUnverified => invalid("its email address is not verified by Google"),
        GoogleError::NotConfigured => ErrorResponse::NotImplemented(Json(
            ErrorBody::new(
                "Not Implemented: Google sign-in is not configured.",
                "Sign-in with Google is not available. Please use your email and password.",
            )
            .with_code(codes::GOOGLE_NOT_CONFIGURED),
        )),
        GoogleError::KeysUnavailable => ErrorResponse::Unavailable(Json(
            ErrorBody::new(
                "Service Unavailable: Google's signing keys cannot be fetched.",
                "Google sign-in is unavailable right now. Please try again in a moment.",
            )
            .with_code(codes::UNAVAILABLE),
        )),
        GoogleError::AccountConflict => ErrorResponse::Conflict(Json(
            ErrorBody::new(
                "Conflict: The account with this email is linked to another Google account.",
                "Sign in with the Google account linked to this email, or with your password.",
            )
            .with_code(codes::GOOGLE_ACCOUNT_CONFLICT),
        )),
    }
}

fn change(err: ChangeError) -> ErrorResponse {
    match err {
        ChangeError::BanDetailsWithoutBan => bad(
            "Bad Request: bannedUntil and reason apply only to a banned account.".into(),
            "Only a ban has an end and a reason.",
        ),
        ChangeError::BanEndsInPast => bad(
            "Bad Request: bannedUntil must be in the future.".into(),
            "A ban must end in the future.",
        ),
        ChangeError::ReasonTooLong => bad(
            format!("Bad Request: reason is longer than {MAX_BAN_REASON_CHARS} characters."),
            "The reason is too long.",
        ),
    }
}

fn missing(field: Field) -> ErrorResponse {
    let (name, human) = match field {
        Field::RefreshToken => ("Refresh token", "Please log in again."),
        Field::Token => ("Token", "Please log in again."),
        Field::ClientCredentials => (
            "clientId or clientSecret",
            "Client credentials are required.",
        ),
        Field::Email => ("email", "An email is required."),
        Field::Ids => ("ids", "User ids are required."),
        Field::IdToken => ("idToken", "Please sign in with Google again."),
    };
    bad(format!("Bad Request: {name} is missing."), human)
}

/// The 401 of a missing, invalid or revoked access token (also answered
/// by the security scheme).
pub fn unauthorized_body() -> ErrorBody {
    ErrorBody::new(
        "Unauthorized: Missing or invalid access token.",
        "Please log in again.",
    )
    .with_code(codes::INVALID_TOKEN)
}

/// The 503 when revocation cannot be checked (also answered by the
/// security scheme).
pub fn unavailable_body() -> ErrorBody {
    ErrorBody::new(
        "Service Unavailable: Token revocation state cannot be checked.",
        "Please try again in a moment.",
    )
    .with_code(codes::UNAVAILABLE)
}

impl From<ApiError> for ErrorResponse {
    fn from(err: ApiError) -> Self {
        let body =
            |msg: String, human: &str, code: &str| Json(ErrorBody::new(msg, human).with_code(code));
        match err {
            ApiError::Registration(err) => registration(err),
            ApiError::Login(err) => login(err),
            ApiError::Google(err) => google(err),
            ApiError::InvalidRefreshToken => ErrorResponse::Unauthorized(body(
                "Unauthorized: Invalid refresh token.".into(),
                "Your session has expired. Please log in again.",
                codes::INVALID_REFRESH_TOKEN,
            )),
            ApiError::Unauthenticated => ErrorResponse::Unauthorized(Json(unauthorized_body())),
            ApiError::InvalidClient => ErrorResponse::Unauthorized(body(
                "Unauthorized: Invalid client credentials.".into(),
                "This service is not allowed to call the account manager.",
                codes::INVALID_CLIENT,
            )),
            ApiError::MissingScope(scope) => ErrorResponse::Forbidden(body(
                format!("Forbidden: Scope {scope} required."),
                "This service is not allowed to do this.",
                codes::INSUFFICIENT_SCOPE,
            )),
            ApiError::UserNotFound => ErrorResponse::NotFound(body(
                "Not Found: No such user.".into(),
                "That user does not exist.",
                codes::USER_NOT_FOUND,
            )),
            ApiError::KeyNotFound => ErrorResponse::NotFound(body(
                "Not Found: No such signing key.".into(),
                "That key does not exist.",
                codes::KEY_NOT_FOUND,
            )),
            ApiError::SessionNotFound => ErrorResponse::NotFound(body(
                "Not Found: No such session.".into(),
                "That session does not exist or has already ended.",
                codes::SESSION_NOT_FOUND,
            )),
            ApiError::WrongPassword => ErrorResponse::BadRequest(body(
                "Bad Request: Password is incorrect.".into(),
                "The password you entered is incorrect",
                codes::WRONG_PASSWORD,
            )),
            ApiError::InvalidLinkToken => ErrorResponse::BadRequest(body(
                "Bad Request: Invalid or expired token.".into(),
                "This link is invalid or has expired. Please ask for a new one.",
                codes::INVALID_LINK_TOKEN,
            )),
            ApiError::LastAdmin => ErrorResponse::Conflict(body(
                "Conflict: The last active admin cannot be demoted, disabled or banned.".into(),
                "Make another user admin first.",
                codes::LAST_ADMIN,
            )),
            ApiError::Change(err) => change(err),
            ApiError::AdminRequired => ErrorResponse::Forbidden(body(
                "Forbidden: Admin role required.".into(),
                "You do not have permission to do this.",
                codes::ADMIN_REQUIRED,
            )),
            ApiError::Missing(field) => missing(field),
            ApiError::UnknownEventType => bad(
                "Bad Request: type is not an audit event type.".into(),
                "There is no such event type.",
            ),
            ApiError::InvalidIds => bad(
                "Bad Request: ids must be comma-separated integers.".into(),
                "Those user ids are not valid.",
            ),
            ApiError::TooManyIds(max) => bad(
                format!("Bad Request: At most {max} ids per request."),
                "Too many users asked for at once.",
            ),
            ApiError::Unavailable => ErrorResponse::Unavailable(Json(unavailable_body())),
            ApiError::RateLimited(_) => ErrorResponse::TooManyRequests(body(
                "Too Many Requests: Rate limit exceeded.".into(),
                "Too many attempts. Please wait a moment and try again.",
                codes::RATE_LIMITED,
            )),
            ApiError::ClientGone => ErrorResponse::BadRequest(body(
                "Bad Request: The client closed the connection.".into(),
                "The request was cancelled.",
                codes::CLIENT_CLOSED,
            )),
            ApiError::Busy => ErrorResponse::Unavailable(body(
                "Service Unavailable: Too many sign-ins at once.".into(),
                "Please try again in a moment.",
                codes::BUSY,
            )),
            ApiError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                ErrorResponse::Internal(Json(ErrorBody::internal().with_code(codes::INTERNAL)))
            }
        }
    }
}

/// Handlers answer `Result<_, ApiError>`; the document shows the shared
/// [`ErrorResponse`] it becomes.
impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        ErrorResponse::meta()
    }

    fn register(registry: &mut Registry) {
        ErrorResponse::register(registry);
    }
}

shared::statuses!(
    /// A registration: invalid fields, a taken email, a rate limit, busy.
    SignUp: 400, 409, 429, 503
);
shared::statuses!(
    /// A sign-in, reactivation or refresh: missing or wrong credentials, a
    /// disabled (401), banned or unverified (403) account, a rate limit,
    /// busy or revocations unavailable.
    SignIn: 400, 401, 403, 429, 503
);
shared::statuses!(
    /// Google sign-in: as [`SignIn`], plus a conflicting link (409) and
    /// "not configured" (501).
    GoogleSignIn: 400, 401, 403, 409, 429, 501, 503
);
shared::statuses!(
    /// The caller's own account, sessions and events.
    Own: 400, 401, 404, 503
);
shared::statuses!(
    /// A change of the caller's own account confirmed with its password
    /// (a wrong one is 400; disabling the last admin 409).
    Confirmed: 400, 401, 404, 409, 503
);
shared::statuses!(
    /// Admin routes: not an admin (403), unknown ids, the last admin (409).
    Admin: 400, 401, 403, 404, 409, 503
);
shared::statuses!(
    /// Routes for other services: a service token without the scope (403).
    Service: 400, 401, 403, 404, 503
);
shared::statuses!(
    /// Client credentials for a service token.
    ClientCredentials: 400, 401, 503
);
shared::statuses!(
    /// An access token checked for another service.
    Validation: 400, 503
);
shared::statuses!(
    /// Password resets and email verification: unknown links, weak
    /// passwords, a rate limit on the mails asked for.
    Recovery: 400, 429, 503
);

/// An [`ApiError`] of a route whose statuses `S` lists: its document shows
/// only those, and an answer of another status is logged.
pub struct Refusal<S>(ApiError, PhantomData<S>);

impl<S, E: Into<ApiError>> From<E> for Refusal<S> {
    fn from(err: E) -> Self {
        Refusal(err.into(), PhantomData)
    }
}

impl<S: Statuses> ApiResponse for Refusal<S> {
    fn meta() -> MetaResponses {
        documented::<S>(ErrorResponse::meta())
    }

    fn register(registry: &mut Registry) {
        ErrorResponse::register(registry);
    }
}

impl<S: Statuses> poem::IntoResponse for Refusal<S> {
    fn into_response(self) -> Response {
        let response = poem::IntoResponse::into_response(self.0);
        check_documented::<S>(&response);
        response
    }
}

impl<S: Statuses> From<Refusal<S>> for poem::Error {
    fn from(refusal: Refusal<S>) -> poem::Error {
        poem::Error::from_response(poem::IntoResponse::into_response(refusal))
    }
}

/// How long a client should wait before retrying a 503, in seconds.
const RETRY_AFTER_SECONDS: &str = "1";

impl From<ApiError> for poem::Error {
    fn from(err: ApiError) -> poem::Error {
        poem::Error::from_response(poem::IntoResponse::into_response(err))
    }
}

/// The error's answer; a 503 says when to retry (`Retry-After`), a 429
/// also which limit it hit (`RateLimit-Policy`, `RateLimit`, as the IETF
/// draft "RateLimit header fields for HTTP" has them).
impl poem::IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let exceeded = match &self {
            ApiError::RateLimited(exceeded) => Some(*exceeded),
            _ => None,
        };
        let mut response = poem::IntoResponse::into_response(ErrorResponse::from(self));
        retry_headers(exceeded, &mut response);
        response
    }
}

/// Says when to retry an answer: a 429 which limit it hit and when it
/// frees up, a 503 a second from now. Every dialect's errors carry them.
pub fn retry_headers(exceeded: Option<crate::throttle::Exceeded>, response: &mut Response) {
    use poem::http::{HeaderValue, StatusCode, header};
    {
        let headers = response.headers_mut();
        if let Some(exceeded) = exceeded {
            let wait = exceeded.retry_after.as_secs().max(1);
            let name = exceeded.rule.name();
            let policy = format!(
                "\"{name}\";q={};w={}",
                exceeded.limit.count,
                exceeded.limit.window.as_secs()
            );
            let state = format!("\"{name}\";r=0;t={wait}");
            for (header, value) in [
                (header::RETRY_AFTER, wait.to_string()),
                (header::HeaderName::from_static("ratelimit-policy"), policy),
                (header::HeaderName::from_static("ratelimit"), state),
            ] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(header, value);
                }
            }
        } else if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
    }
}

/// An OAuth error (RFC 6749 §5.2).
#[derive(Object, Debug)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unauthorized_client`,
    /// `server_error` or `temporarily_unavailable`.
    pub error: String,
    #[oai(skip_serializing_if_is_none)]
    pub error_description: Option<String>,
}

fn oauth_error(error: &str, description: &str) -> Json<OAuthError> {
    Json(OAuthError {
        error: error.to_owned(),
        error_description: Some(description.to_owned()),
    })
}

/// How the OAuth endpoints fail.
#[derive(ApiResponse, Debug)]
pub enum OAuthFailure {
    /// No token in the request.
    #[oai(status = 400)]
    BadRequest(Json<OAuthError>),
    /// Missing or wrong client credentials.
    #[oai(status = 401)]
    InvalidClient(Json<OAuthError>, #[oai(header = "WWW-Authenticate")] String),
    /// Something failed on our side.
    #[oai(status = 500)]
    Internal(Json<OAuthError>),
    /// The revocation state is not current: the answer cannot be given.
    #[oai(status = 503)]
    Unavailable(Json<OAuthError>),
}

impl OAuthFailure {
    pub fn invalid_client() -> Self {
        OAuthFailure::InvalidClient(
            oauth_error("invalid_client", "Client authentication failed."),
            "Basic realm=\"account-manager\"".to_owned(),
        )
    }

    pub fn missing_token() -> Self {
        OAuthFailure::BadRequest(oauth_error("invalid_request", "The token is missing."))
    }
}

/// A refusal the framework makes itself (a body that is not a form, over
/// the limit, a wrong method) on an OAuth endpoint, in the OAuth shape.
pub fn oauth_framework_refusal(status: poem::http::StatusCode) -> Response {
    let error = if status.is_server_error() {
        "server_error"
    } else {
        "invalid_request"
    };
    let description = match status {
        poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "Send the body as application/x-www-form-urlencoded."
        }
        poem::http::StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.",
        poem::http::StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed here.",
        status if status.is_server_error() => "Internal server error",
        _ => "The request is malformed.",
    };
    let mut response = poem::IntoResponse::into_response(oauth_error(error, description));
    response.set_status(status);
    response
}

/// RFC 7009's refusal of another client's service token.
pub fn not_the_clients_token() -> Json<OAuthError> {
    oauth_error(
        "unauthorized_client",
        "The token was not issued to this client.",
    )
}

impl From<DeskError> for OAuthFailure {
    fn from(err: DeskError) -> Self {
        match err {
            DeskError::Unavailable => OAuthFailure::Unavailable(oauth_error(
                "temporarily_unavailable",
                "Token revocation state cannot be checked.",
            )),
            DeskError::Internal(err) => {
                tracing::error!(error = ?err, "token introspection or revocation failed");
                OAuthFailure::Internal(oauth_error("server_error", "Internal server error"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(err: ApiError) -> (u16, ErrorBody) {
        let response = ErrorResponse::from(err);
        (response.status().as_u16(), response.body().clone())
    }

    #[test]
    fn every_answer_has_a_code() {
        let errors = [
            ApiError::Registration(RegistrationError::EmailMissing),
            ApiError::Registration(RegistrationError::EmailTaken),
            ApiError::Login(LoginError::CredentialsMissing),
            ApiError::Login(LoginError::BadCredentials),
            ApiError::Login(LoginError::Disabled),
            ApiError::Login(LoginError::Banned),
            ApiError::Google(GoogleError::Malformed),
            ApiError::Google(GoogleError::NotConfigured),
            ApiError::Google(GoogleError::KeysUnavailable),
            ApiError::Google(GoogleError::AccountConflict),
            ApiError::Missing(Field::IdToken),
            ApiError::InvalidRefreshToken,
            ApiError::Unauthenticated,
            ApiError::AdminRequired,
            ApiError::InvalidClient,
            ApiError::MissingScope("users:read"),
            ApiError::UserNotFound,
            ApiError::KeyNotFound,
            ApiError::SessionNotFound,
            ApiError::WrongPassword,
            ApiError::InvalidLinkToken,
            ApiError::LastAdmin,
            ApiError::Change(ChangeError::BanEndsInPast),
            ApiError::Login(LoginError::EmailUnverified),
            ApiError::Missing(Field::Ids),
            ApiError::InvalidIds,
            ApiError::TooManyIds(200),
            ApiError::Unavailable,
            ApiError::Busy,
            ApiError::ClientGone,
            ApiError::Internal(anyhow::anyhow!("boom")),
        ];
        for err in errors {
            let shown = format!("{err:?}");
            let (_, body) = answer(err);
            assert!(body.code.is_some(), "{shown} has no code");
        }
    }

    #[test]
    fn refusals_keep_their_statuses_and_codes() {
        let (status, body) = answer(ApiError::Login(LoginError::Disabled));
        assert_eq!(
            (status, body.code.as_deref()),
            (401, Some("account_disabled"))
        );
        assert_eq!(body.resolve.as_deref(), Some(REACTIVATE_PATH));
        let (status, body) = answer(ApiError::Registration(RegistrationError::EmailTaken));
        assert_eq!((status, body.code.as_deref()), (409, Some("email_taken")));
        let (status, body) = answer(ApiError::Internal(anyhow::anyhow!("secret detail")));
        assert_eq!(status, 500);
        assert_eq!(body.msg, "Internal server error");
        let (status, _) = answer(RefreshError::Unavailable.into());
        assert_eq!(status, 503);
        let (status, _) = answer(not_spread(RevocationError::Unavailable));
        assert_eq!(status, 503);
    }

    #[test]
    fn google_refusals_say_why() {
        for (err, status, code) in [
            (GoogleError::Malformed, 401, "invalid_google_token"),
            (GoogleError::UnknownKey, 401, "invalid_google_token"),
            (GoogleError::BadSignature, 401, "invalid_google_token"),
            (GoogleError::Expired, 401, "invalid_google_token"),
            (GoogleError::WrongIssuer, 401, "invalid_google_token"),
            (GoogleError::WrongAudience, 401, "invalid_google_token"),
            (GoogleError::EmailUnverified, 401, "invalid_google_token"),
            (GoogleError::NotConfigured, 501, "google_not_configured"),
            (GoogleError::KeysUnavailable, 503, "unavailable"),
            (GoogleError::AccountConflict, 409, "google_account_conflict"),
        ] {
            let (actual, body) = answer(ApiError::Google(err));
            assert_eq!(
                (actual, body.code.as_deref()),
                (status, Some(code)),
                "{err:?}"
            );
        }
    }
}
