//! How the service's errors are answered: seed 000's statuses and `msg` texts.

use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
use shared::error::ErrorBody;

use crate::error::KanbanError;

#[derive(ApiResponse, Debug)]
pub enum ErrorResponse {
    /// The request is invalid.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Not authenticated, or not allowed (seed 000 answers 401 for both).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The account is banned.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource (or not one the caller may see).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Something failed on our side; details are in the logs only.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// Not offered yet.
    #[oai(status = 501)]
    NotImplemented(Json<ErrorBody>),
    /// A service this answer depends on cannot be reached.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn body(msg: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody::msg_only(msg))
}

pub const AUTHENTICATION_FAILED: &str = "Authentication failed";

impl From<KanbanError> for ErrorResponse {
    fn from(err: KanbanError) -> Self {
        use KanbanError::*;
        match err {
            OrganizationHidden => ErrorResponse::Unauthorized(body(
                "Organization not found or you are not authorized to see this organization",
            )),
            NotMember => ErrorResponse::Unauthorized(body(
                "Authorization failed, you are not a member of this organization",
            )),
            NotAdmin => ErrorResponse::Unauthorized(body(
                "Authorization failed, you are not admin of this organization",
            )),
            NotTaskEditor => ErrorResponse::Unauthorized(body(
                "Authorization failed, only task owner and assignee can edit this task",
            )),
            CategoryNotFound => ErrorResponse::NotFound(body("Category not found")),
            TaskNotFound => ErrorResponse::NotFound(body("Task not found")),
            TagNotFound => ErrorResponse::NotFound(body("Tag not found")),
            UserNotFound => ErrorResponse::NotFound(body("User not found")),
            MemberNotFound => ErrorResponse::NotFound(body("Member not found")),
            Invalid(msg) => ErrorResponse::BadRequest(body(msg)),
            CategoryNotEmpty => ErrorResponse::BadRequest(body(
                "Category still has tasks, move or delete them before deleting the category",
            )),
            LastAdmin => {
                ErrorResponse::BadRequest(body("An organization needs at least one admin"))
            }
            AlreadyMember => {
                ErrorResponse::BadRequest(body("User is already a member of this organization"))
            }
            EmailTaken => ErrorResponse::BadRequest(body("Email has already been taken")),
            WrongCredentials => ErrorResponse::Unauthorized(body("Wrong email or password")),
            AccountDisabled => ErrorResponse::Unauthorized(body("This account is disabled")),
            AccountBanned => ErrorResponse::Forbidden(body("This account is suspended")),
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
