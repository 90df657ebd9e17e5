//! How the service's errors are answered (seed 004's `{msg, humanMsg}`).

use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
use shared::error::ErrorBody;

use crate::accounts::{
    LoginError, MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
    RegistrationError,
};
use crate::error::AppError;

/// Where a disabled account is sent to reactivate itself.
pub const REACTIVATE_PATH: &str = "/api/v1/reactivate/email";

#[derive(ApiResponse, Debug)]
pub enum ErrorResponse {
    /// The request is invalid.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing, invalid or revoked credentials, or a disabled account.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The account is banned, or the caller lacks the role.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The email is already registered.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Something failed on our side; details are in the logs only.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A store the answer depends on (Redis) is unreachable.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn bad(msg: String, human: &str) -> ErrorResponse {
    ErrorResponse::BadRequest(Json(ErrorBody::new(msg, human)))
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
        PasswordsDiffer => bad(
            "Bad Request: Passwords do not match.".into(),
            "The two passwords you entered do not match",
        ),
        NameTooLong => bad(
            format!("Bad Request: Name is longer than {MAX_NAME_CHARS} characters."),
            "Your name is too long",
        ),
        EmailTaken => ErrorResponse::Conflict(Json(ErrorBody::new(
            "Conflict: User email already has existing email",
            "This email has already been register.",
        ))),
    }
}

fn login(err: LoginError) -> ErrorResponse {
    match err {
        LoginError::CredentialsMissing => bad(
            "Bad Request: Email and password required.".into(),
            "Please enter your account information",
        ),
        LoginError::BadCredentials => bad(
            "Bad Request: Invalid email or password.".into(),
            "The email or password you entered is incorrect",
        ),
        LoginError::Disabled => ErrorResponse::Unauthorized(Json(
            ErrorBody::new(
                "Unauthorized: User account is disabled.",
                "This account is disabled.",
            )
            .with_resolve(REACTIVATE_PATH),
        )),
        LoginError::Banned => ErrorResponse::Forbidden(Json(ErrorBody::new(
            "Forbidden: User has been banned.",
            "This account is suspended.",
        ))),
    }
}

pub fn unauthorized_body() -> ErrorBody {
    ErrorBody::new(
        "Unauthorized: Missing or invalid access token.",
        "Please log in again.",
    )
}

pub fn unavailable_body() -> ErrorBody {
    ErrorBody::new(
        "Service Unavailable: Token revocation state cannot be checked.",
        "Please try again in a moment.",
    )
}

impl From<AppError> for ErrorResponse {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Registration(err) => registration(err),
            AppError::Login(err) => login(err),
            AppError::InvalidRefreshToken => ErrorResponse::Unauthorized(Json(ErrorBody::new(
                "Unauthorized: Invalid refresh token.",
                "Your session has expired. Please log in again.",
            ))),
            AppError::Unauthenticated => ErrorResponse::Unauthorized(Json(unauthorized_body())),
            AppError::InvalidClient => ErrorResponse::Unauthorized(Json(ErrorBody::new(
                "Unauthorized: Invalid client credentials.",
                "This service is not allowed to call the account manager.",
            ))),
            AppError::MissingScope(scope) => ErrorResponse::Forbidden(Json(ErrorBody::new(
                format!("Forbidden: Scope {scope} required."),
                "This service is not allowed to do this.",
            ))),
            AppError::UserNotFound => ErrorResponse::NotFound(Json(ErrorBody::new(
                "Not Found: No such user.",
                "That user does not exist.",
            ))),
            AppError::KeyNotFound => ErrorResponse::NotFound(Json(ErrorBody::new(
                "Not Found: No such signing key.",
                "That key does not exist.",
            ))),
            AppError::Forbidden => ErrorResponse::Forbidden(Json(ErrorBody::new(
                "Forbidden: Admin role required.",
                "You do not have permission to do this.",
            ))),
            AppError::Unavailable => ErrorResponse::Unavailable(Json(unavailable_body())),
            AppError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                ErrorResponse::Internal(Json(ErrorBody::internal()))
            }
        }
    }
}

/// A 400 for a field the caller must send.
pub fn missing(field: &str, human: &str) -> ErrorResponse {
    bad(format!("Bad Request: {field} is missing."), human)
}
