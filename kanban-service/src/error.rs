//! The service's one error type: every outcome a request can end in other
//! than success. Board rules refuse with a typed [`BoardError`]; the rest
//! are the account manager's answers and failures. The HTTP mapping (seed
//! 000's statuses and every text a client reads) is in `api::error`.

use crate::boards::BoardError;

#[derive(Debug, thiserror::Error)]
pub enum KanbanError {
    /// A board rule refused the request.
    #[error(transparent)]
    Board(#[from] BoardError),
    /// Input refused outside the board rules (by the account manager, or
    /// the user routes); the text is final.
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("email taken")]
    EmailTaken,
    #[error("wrong credentials")]
    WrongCredentials,
    /// The account manager did not accept the Google ID token.
    #[error("Google token refused")]
    GoogleRefused,
    /// The account with the Google token's email is linked to another
    /// Google account.
    #[error("Google account conflict")]
    GoogleAccountConflict,
    #[error("account disabled")]
    AccountDisabled,
    #[error("account banned")]
    AccountBanned,
    /// The account manager's sign-in limit for this client was reached.
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    /// The account must verify its email address before it logs in.
    #[error("email unverified")]
    EmailUnverified,
    /// The account manager did not accept the caller's token.
    #[error("unauthenticated")]
    Unauthenticated,
    #[error("not implemented: {0}")]
    NotImplemented(&'static str),
    /// The account manager (or the revocation store) cannot be reached.
    #[error("dependency unavailable: {0}")]
    Unavailable(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for KanbanError {
    fn from(err: sea_orm::DbErr) -> Self {
        KanbanError::Internal(err.into())
    }
}

impl<E> From<sea_orm::TransactionError<E>> for KanbanError
where
    E: Into<KanbanError> + std::error::Error,
{
    fn from(err: sea_orm::TransactionError<E>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(err) => err.into(),
            sea_orm::TransactionError::Transaction(err) => err.into(),
        }
    }
}

pub type KanbanResult<T> = Result<T, KanbanError>;
