//! How the service's errors are answered: seed 000's statuses and `msg`
//! texts. Every sentence a client reads is chosen here; the domain only
//! says which rule refused (so another dialect can word it differently).

use std::marker::PhantomData;

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponses, Registry};
use shared::error::{ErrorBody, Statuses, check_documented, documented};

use crate::boards::{BoardError, Field, Rule, Violation};
use crate::error::KanbanError;

pub use shared::error::ErrorResponse;

shared::statuses!(
    /// A board route (organizations, members, categories, tags, tasks,
    /// invitations): invalid input, no or a refused token (and seed 000's
    /// "not authorized" refusals), an unknown id, or revocations that
    /// cannot be checked.
    Board: 400, 401, 404, 503
);
shared::statuses!(
    /// A sign-in through the account manager: invalid input, wrong
    /// credentials, a banned or unverified account, a rate limit, Google
    /// sign-in not configured, or the account manager unreachable.
    SignIn: 400, 401, 403, 429, 501, 503
);
shared::statuses!(
    /// A registration through the account manager.
    Registration: 400, 403, 429, 503
);
shared::statuses!(
    /// The current user, read or renamed.
    OwnAccount: 400, 401, 503
);

/// An [`ErrorResponse`] of a route whose statuses `S` lists: its document
/// shows only those, and an answer of another status is logged.
pub struct Refusal<S>(ErrorResponse, PhantomData<S>);

impl<S, E: Into<ErrorResponse>> From<E> for Refusal<S> {
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

impl<S: Statuses> IntoResponse for Refusal<S> {
    fn into_response(self) -> Response {
        let response = self.0.into_response();
        check_documented::<S>(&response);
        response
    }
}

impl<S: Statuses> From<Refusal<S>> for poem::Error {
    fn from(refusal: Refusal<S>) -> poem::Error {
        poem::Error::from_response(refusal.into_response())
    }
}

fn body(msg: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody::msg_only(msg))
}

pub const AUTHENTICATION_FAILED: &str = "Authentication failed";

/// `GET /avatars/{file}` for anything that is not an avatar's key.
pub const AVATAR_NOT_FOUND: &str = "Avatar not found";

/// How seed 000 names a field in its messages.
fn label(field: Field) -> &'static str {
    match field {
        Field::Name => "Name",
        Field::Description => "Description",
        Field::Title => "Title",
        Field::DueDate => "due_date",
        Field::Color => "Color",
        Field::Role => "Role",
        Field::UserEmail => "UserEmail",
        Field::UserId => "UserId",
        Field::OrganizationId => "OrganizationId",
        Field::CategoryId => "CategoryId",
        Field::TagId => "TagId",
        Field::Position => "position",
        Field::FirstName => "First name",
        Field::SecondName => "Second name",
        Field::Email => "Email",
        Field::Password => "Password",
        Field::GoogleAccessToken => "google_access_token",
    }
}

/// Seed 000's sentence for a broken input rule.
fn sentence(Violation { field, rule }: Violation) -> String {
    let label = label(field);
    match rule {
        Rule::Required => format!("{label} is required"),
        Rule::AtMost(max) => format!("{label} must be at most {max} characters"),
        Rule::AtLeast(min) => format!("{label} should be minimum {min} characters"),
        Rule::NoSpaces => format!("{label} cannot contain space"),
        Rule::HexColor => format!("{label} must be a hex color like #FF0000"),
        Rule::Date => format!("{label} must be a date like 2020-10-10"),
        Rule::EmailAddress => "Please fill email with correct format (yourmail@mail.com)".into(),
        Rule::RoleName => format!("{label} must be admin or member"),
    }
}

/// "A is required", "A or B is required", "A, B or C is required".
fn one_of_required(fields: &[Field]) -> String {
    let labels: Vec<&str> = fields.iter().copied().map(label).collect();
    let listed = match labels.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    format!("{listed} is required")
}

impl From<BoardError> for ErrorResponse {
    fn from(err: BoardError) -> Self {
        use BoardError::*;
        use ErrorResponse::{BadRequest, NotFound, Unauthorized};
        match err {
            OrganizationHidden => Unauthorized(body(
                "Organization not found or you are not authorized to see this organization",
            )),
            NotMember => Unauthorized(body(
                "Authorization failed, you are not a member of this organization",
            )),
            NotAdmin => Unauthorized(body(
                "Authorization failed, you are not admin of this organization",
            )),
            NotTaskEditor => Unauthorized(body(
                "Authorization failed, only task owner and assignee can edit this task",
            )),
            CategoryNotFound => NotFound(body("Category not found")),
            TaskNotFound => NotFound(body("Task not found")),
            TagNotFound => NotFound(body("Tag not found")),
            UserNotFound => NotFound(body("User not found")),
            MemberNotFound => NotFound(body("Member not found")),
            LastAdmin => BadRequest(body("An organization needs at least one admin")),
            NotOwner => Unauthorized(body(
                "Authorization failed, you are not owner of this organization",
            )),
            OwnerProtected => BadRequest(body(
                "The owner cannot be demoted or removed; the owner may transfer ownership to another member first",
            )),
            InvitationNotFound => NotFound(body("Invitation not found")),
            AlreadyMember => BadRequest(body("User is already a member of this organization")),
            AssigneeNotMember => BadRequest(body("User is not a member of this organization")),
            Invalid { field, rule } => BadRequest(body(sentence(Violation { field, rule }))),
            Violations(all) => {
                let sentences: Vec<String> = all.into_iter().map(sentence).collect();
                BadRequest(body(sentences.join(", ")))
            }
            OneOfRequired(fields) => BadRequest(body(one_of_required(fields))),
        }
    }
}

impl From<KanbanError> for ErrorResponse {
    fn from(err: KanbanError) -> Self {
        use KanbanError::*;
        match err {
            Board(err) => err.into(),
            Invalid(msg) => ErrorResponse::BadRequest(body(msg)),
            EmailTaken => ErrorResponse::BadRequest(body("Email has already been taken")),
            WrongCredentials => ErrorResponse::Unauthorized(body("Wrong email or password")),
            GoogleRefused => ErrorResponse::Unauthorized(body("Google authentication failed")),
            GoogleAccountConflict => ErrorResponse::Unauthorized(body(
                "This email belongs to an account linked to another Google account",
            )),
            AccountDisabled => ErrorResponse::Unauthorized(body("This account is disabled")),
            AccountBanned => ErrorResponse::Forbidden(body("This account is suspended")),
            RateLimited { retry_after } => ErrorResponse::TooManyRequests(body(format!(
                "Too many attempts, try again in {retry_after} seconds"
            ))),
            EmailUnverified => ErrorResponse::Forbidden(body(
                "Please verify your email address first: follow the link we mailed you",
            )),
            Unauthenticated => ErrorResponse::Unauthorized(body(AUTHENTICATION_FAILED)),
            NotImplemented(what) => {
                ErrorResponse::NotImplemented(body(format!("Not implemented: {what}")))
            }
            Unavailable(what) => ErrorResponse::Unavailable(body(format!(
                "Service unavailable: the {what} cannot be reached"
            ))),
            Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                ErrorResponse::Internal(Json(ErrorBody::internal()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(err: BoardError) -> (u16, String) {
        let (status, Json(body)) = match ErrorResponse::from(err) {
            ErrorResponse::BadRequest(b) => (400, b),
            ErrorResponse::Unauthorized(b) => (401, b),
            ErrorResponse::NotFound(b) => (404, b),
            other => panic!("unexpected {other:?}"),
        };
        (status, body.msg)
    }

    #[test]
    fn input_rules_read_as_seed_000_wrote_them() {
        let invalid = |field, rule| msg(BoardError::invalid(field, rule));
        assert_eq!(
            invalid(Field::Name, Rule::Required),
            (400, "Name is required".into())
        );
        assert_eq!(
            invalid(Field::Title, Rule::AtMost(255)),
            (400, "Title must be at most 255 characters".into())
        );
        assert_eq!(
            invalid(Field::Color, Rule::HexColor).1,
            "Color must be a hex color like #FF0000"
        );
        assert_eq!(
            invalid(Field::DueDate, Rule::Date).1,
            "due_date must be a date like 2020-10-10"
        );
        assert_eq!(
            invalid(Field::Role, Rule::RoleName).1,
            "Role must be admin or member"
        );
        assert_eq!(
            invalid(Field::Password, Rule::AtLeast(6)).1,
            "Password should be minimum 6 characters"
        );
        assert_eq!(
            invalid(Field::Email, Rule::EmailAddress).1,
            "Please fill email with correct format (yourmail@mail.com)"
        );
        let all = [Field::FirstName, Field::SecondName].map(|field| Violation {
            field,
            rule: Rule::NoSpaces,
        });
        assert_eq!(
            msg(BoardError::Violations(all.to_vec())).1,
            "First name cannot contain space, Second name cannot contain space"
        );
        let filters = &[Field::OrganizationId, Field::CategoryId, Field::TagId];
        assert_eq!(
            msg(BoardError::OneOfRequired(filters)).1,
            "OrganizationId, CategoryId or TagId is required"
        );
        assert_eq!(
            msg(BoardError::OneOfRequired(&[Field::Name, Field::Position])).1,
            "Name or position is required"
        );
        assert_eq!(
            msg(BoardError::OrganizationHidden),
            (
                401,
                "Organization not found or you are not authorized to see this organization".into()
            )
        );
    }
}
