//! The service's one error type: every outcome a request can end in other
//! than success. The HTTP mapping (seed 000's statuses and texts) is in
//! `api::error`.

#[derive(Debug, thiserror::Error)]
pub enum KanbanError {
    /// The organization does not exist or the caller is not a member; the
    /// answer never says which.
    #[error("organization not visible")]
    OrganizationHidden,
    #[error("not a member")]
    NotMember,
    #[error("not an admin")]
    NotAdmin,
    #[error("not the task's owner or assignee")]
    NotTaskEditor,
    #[error("category not found")]
    CategoryNotFound,
    #[error("task not found")]
    TaskNotFound,
    #[error("tag not found")]
    TagNotFound,
    #[error("user not found")]
    UserNotFound,
    #[error("member not found")]
    MemberNotFound,
    /// The request breaks a validation rule; the text says which.
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("category still holds tasks")]
    CategoryNotEmpty,
    #[error("last admin")]
    LastAdmin,
    #[error("already a member")]
    AlreadyMember,
    #[error("email taken")]
    EmailTaken,
    #[error("wrong credentials")]
    WrongCredentials,
    #[error("account disabled")]
    AccountDisabled,
    #[error("account banned")]
    AccountBanned,
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
