//! Why a board rule refuses a request. Values only: the sentences a client
//! reads are chosen by the API (`api::error`).

/// An input a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Description,
    Title,
    DueDate,
    Color,
    Role,
    UserEmail,
    UserId,
    OrganizationId,
    CategoryId,
    TagId,
    Position,
    FirstName,
    SecondName,
    Email,
    Password,
    /// seed 000's Google sign-in field (it carries Google's ID token).
    GoogleAccessToken,
}

/// A rule an input must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Required,
    /// At most this many characters.
    AtMost(usize),
    /// At least this many characters.
    AtLeast(usize),
    NoSpaces,
    /// `#RRGGBB`.
    HexColor,
    /// `2020-10-10` or an RFC 3339 instant.
    Date,
    EmailAddress,
    /// `admin` or `member`.
    RoleName,
}

/// One broken rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Violation {
    pub field: Field,
    pub rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
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
    #[error("last admin")]
    LastAdmin,
    /// Only the organization's owner may do this (transfer ownership,
    /// delete the organization).
    #[error("not the owner")]
    NotOwner,
    /// The owner is neither demoted nor removed, not even by themselves:
    /// ownership moves only by the owner's transfer.
    #[error("the owner stays an admin member")]
    OwnerProtected,
    /// No open invitation with this id for this caller (or organization).
    #[error("invitation not found")]
    InvitationNotFound,
    #[error("already a member")]
    AlreadyMember,
    /// Only members of the task's organization can be assigned.
    #[error("the assignee is not a member")]
    AssigneeNotMember,
    #[error("invalid {field:?}: {rule:?}")]
    Invalid { field: Field, rule: Rule },
    /// Several rules broken at once, reported together, in this order.
    #[error("invalid: {0:?}")]
    Violations(Vec<Violation>),
    /// At least one of these is required.
    #[error("one of {0:?} is required")]
    OneOfRequired(&'static [Field]),
}

impl BoardError {
    pub fn invalid(field: Field, rule: Rule) -> Self {
        BoardError::Invalid { field, rule }
    }
}

pub type BoardResult<T> = Result<T, BoardError>;
