//! The service's one error type. Domain outcomes are variants; anything
//! unexpected is `Internal`, logged and answered as an opaque 500.

use shared::RevocationError;

use crate::accounts::{LoginError, RegistrationError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("registration refused: {0:?}")]
    Registration(RegistrationError),
    #[error("login refused: {0:?}")]
    Login(LoginError),
    /// Unknown, expired, revoked or reused refresh token.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// The access token names no live user.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The caller is authenticated but may not do this.
    #[error("forbidden")]
    Forbidden,
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
    /// The revocation state cannot be read or spread (Redis down, or not
    /// current yet).
    #[error("revocation state unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<RegistrationError> for AppError {
    fn from(err: RegistrationError) -> Self {
        AppError::Registration(err)
    }
}

impl From<LoginError> for AppError {
    fn from(err: LoginError) -> Self {
        AppError::Login(err)
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<RevocationError> for AppError {
    fn from(err: RevocationError) -> Self {
        match err {
            RevocationError::Revoked => AppError::Unauthenticated,
            RevocationError::Unavailable => AppError::Unavailable,
        }
    }
}

impl From<crate::tokens::revocation::RevocationOutcome> for AppError {
    fn from(err: crate::tokens::revocation::RevocationOutcome) -> Self {
        use crate::tokens::revocation::RevocationOutcome;
        match err {
            RevocationOutcome::Database(err) => err.into(),
            RevocationOutcome::Spread(err) => err.into(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
