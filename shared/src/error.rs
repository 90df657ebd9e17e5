//! The error body every service answers with, the one response type that
//! wraps it in a status, and the mapping of poem's own errors (unparsable
//! bodies, unknown routes, oversized bodies) to it, so that no answer leaks
//! internal detail.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use serde::{Deserialize, Serialize};

/// `{"msg", "humanMsg"?, "resolve"?, "code"?}`.
#[derive(Debug, Clone, Object, Serialize, Deserialize, PartialEq, Eq)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What went wrong, for developers.
    pub msg: String,
    /// What went wrong, for the person using the app.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human_msg: Option<String>,
    /// Where to go to fix it.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve: Option<String>,
    /// What went wrong, for programs: a stable snake_case word such as
    /// `email_taken`; the texts may change, the codes do not.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// The machine-readable `code`s of the account manager's errors, for the
/// services that call it to match on (never on the texts).
pub mod codes {
    /// A field is missing or invalid (which one is in `msg`).
    pub const VALIDATION: &str = "validation";
    /// Registration: the email is already registered.
    pub const EMAIL_TAKEN: &str = "email_taken";
    pub const USERNAME_TAKEN: &str = "username_taken";
    /// Login: unknown email or wrong password.
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// Login or refresh: the account is disabled (see `resolve`).
    pub const ACCOUNT_DISABLED: &str = "account_disabled";
    /// Login or refresh: the account is banned.
    pub const ACCOUNT_BANNED: &str = "account_banned";
    /// Login or refresh: email verification is required and not done yet
    /// (see `resolve`).
    pub const EMAIL_UNVERIFIED: &str = "email_unverified";
    /// Google sign-in: the ID token is malformed, expired, not signed by
    /// Google, not meant for this service, or its email is not verified.
    pub const INVALID_GOOGLE_TOKEN: &str = "invalid_google_token";
    /// Google sign-in: the account with the token's email is linked to
    /// another Google account.
    pub const GOOGLE_ACCOUNT_CONFLICT: &str = "google_account_conflict";
    /// Google sign-in is not configured on this account manager.
    pub const GOOGLE_NOT_CONFIGURED: &str = "google_not_configured";
    /// The password given to confirm a change is wrong.
    pub const WRONG_PASSWORD: &str = "wrong_password";
    /// A password-reset or verification link's token is unknown, used or expired.
    pub const INVALID_LINK_TOKEN: &str = "invalid_link_token";
    /// The change would leave no active admin.
    pub const LAST_ADMIN: &str = "last_admin";
    pub const SESSION_NOT_FOUND: &str = "session_not_found";
    /// The access token is missing, invalid, expired or revoked, or names no user.
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// The refresh token is unknown, expired, revoked or reused.
    pub const INVALID_REFRESH_TOKEN: &str = "invalid_refresh_token";
    /// Unknown service client, or wrong secret.
    pub const INVALID_CLIENT: &str = "invalid_client";
    /// The service token lacks the scope the route needs.
    pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";
    /// The route is for admins.
    pub const ADMIN_REQUIRED: &str = "admin_required";
    pub const USER_NOT_FOUND: &str = "user_not_found";
    pub const KEY_NOT_FOUND: &str = "key_not_found";
    /// Too many requests of this kind from this client; see `Retry-After`.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The client closed the connection before the answer (never read).
    pub const CLIENT_CLOSED: &str = "client_closed";
    /// Too many password hashes at once; try again after `Retry-After`.
    pub const BUSY: &str = "busy";
    /// The revocation state cannot be read or spread; try again.
    pub const UNAVAILABLE: &str = "unavailable";
    /// Something failed on the server's side (details only in its logs).
    pub const INTERNAL: &str = "internal";
}

impl ErrorBody {
    pub fn new(msg: impl Into<String>, human_msg: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            human_msg: Some(human_msg.into()),
            resolve: None,
            code: None,
        }
    }

    pub fn msg_only(msg: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            human_msg: None,
            resolve: None,
            code: None,
        }
    }

    pub fn with_resolve(mut self, resolve: impl Into<String>) -> Self {
        self.resolve = Some(resolve.into());
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn internal() -> Self {
        Self::msg_only("Internal server error")
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({"msg": self.msg}))
    }

    pub fn into_response(self, status: StatusCode) -> Response {
        crate::auth::json_response(status, &self.to_value())
    }
}

/// An error answer: an [`ErrorBody`] under its status. Each service maps
/// its own error type to this one, choosing every text it says.
#[derive(ApiResponse, Debug)]
pub enum ErrorResponse {
    /// The request is invalid.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing, invalid or revoked credentials (or, where a service says
    /// so, a refusal it words as one).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The caller is known but may not do this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource (or not one the caller may see).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request conflicts with what exists (e.g. a taken email).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Too many requests of this kind from this client; see `Retry-After`
    /// and the `RateLimit-Policy` / `RateLimit` headers.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// Something failed on our side; details are in the logs only.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// Not offered yet.
    #[oai(status = 501)]
    NotImplemented(Json<ErrorBody>),
    /// A service or store the answer depends on cannot be reached.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl ErrorResponse {
    /// The answer's status.
    pub fn status(&self) -> StatusCode {
        match self {
            ErrorResponse::BadRequest(_) => StatusCode::BAD_REQUEST,
            ErrorResponse::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ErrorResponse::Forbidden(_) => StatusCode::FORBIDDEN,
            ErrorResponse::NotFound(_) => StatusCode::NOT_FOUND,
            ErrorResponse::Conflict(_) => StatusCode::CONFLICT,
            ErrorResponse::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ErrorResponse::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorResponse::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ErrorResponse::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The answer's body.
    pub fn body(&self) -> &ErrorBody {
        match self {
            ErrorResponse::BadRequest(body)
            | ErrorResponse::Unauthorized(body)
            | ErrorResponse::Forbidden(body)
            | ErrorResponse::NotFound(body)
            | ErrorResponse::Conflict(body)
            | ErrorResponse::Internal(body)
            | ErrorResponse::NotImplemented(body)
            | ErrorResponse::TooManyRequests(body)
            | ErrorResponse::Unavailable(body) => &body.0,
        }
    }
}

/// The statuses of [`ErrorResponse`] one route answers: its document lists
/// these (and 500, which any route may answer), no others. Declared with
/// [`crate::statuses!`].
pub trait Statuses: Send + Sync + 'static {
    const LIST: &'static [u16];

    /// Whether a route of these statuses may answer `status`.
    fn allows(status: StatusCode) -> bool {
        status == StatusCode::INTERNAL_SERVER_ERROR || Self::LIST.contains(&status.as_u16())
    }
}

/// `meta` with only the responses `S` allows (and those of no status).
pub fn documented<S: Statuses>(
    mut meta: poem_openapi::registry::MetaResponses,
) -> poem_openapi::registry::MetaResponses {
    meta.responses.retain(|response| {
        response
            .status
            .and_then(|status| StatusCode::from_u16(status).ok())
            .is_none_or(S::allows)
    });
    meta
}

/// An answer whose status its route does not document: logged as an
/// error, and in debug builds (the tests and the fuzzing) a panic, so that
/// a document that says less than its route fails the test command.
pub fn check_documented<S: Statuses>(response: &Response) {
    if !S::allows(response.status()) {
        tracing::error!(
            status = %response.status(),
            documented = ?S::LIST,
            "a route answered a status its document does not list"
        );
        debug_assert!(
            false,
            "a route answered {} but documents only {:?}",
            response.status(),
            S::LIST
        );
    }
}

/// Declares the statuses of a kind of route:
/// `statuses!(/** Sign-ins. */ SignIn: 400, 401, 403, 429, 503);`
#[macro_export]
macro_rules! statuses {
    ($(#[$doc:meta])* $name:ident: $($status:literal),* $(,)?) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::error::Statuses for $name {
            const LIST: &'static [u16] = &[$($status),*];
        }
    };
}

/// The body for an error poem raised itself (not one of our own answers),
/// by status. Never includes the error's text, which can name internal types.
pub fn body_for_status(status: StatusCode) -> ErrorBody {
    match status {
        StatusCode::BAD_REQUEST => ErrorBody::new(
            "Bad Request: The request is malformed or has a field of the wrong type.",
            "Something went wrong with that request. Please check what you entered.",
        ),
        StatusCode::UNAUTHORIZED => ErrorBody::new(
            "Unauthorized: Missing or invalid access token.",
            "Please log in again.",
        ),
        StatusCode::NOT_FOUND => {
            ErrorBody::new("Not Found: No such route.", "That page does not exist.")
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            ErrorBody::new("Method Not Allowed.", "That action is not supported here.")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ErrorBody::new(
            "Payload Too Large: The request body is too large.",
            "That is more data than we accept in one request.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorBody::new(
            "Unsupported Media Type: Send the body as application/json.",
            "Something went wrong with that request.",
        ),
        status if status.is_server_error() => ErrorBody::internal(),
        status => ErrorBody::msg_only(status.canonical_reason().unwrap_or("Error").to_owned()),
    }
}

/// A `catch_all_error` handler: our own answers pass through unchanged;
/// poem's errors get a JSON body; server errors are logged, never echoed.
pub async fn render_error(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    if status.is_server_error() {
        tracing::error!(error = %err, "request failed");
    } else {
        tracing::debug!(error = %err, %status, "request refused");
    }
    let mut response = body_for_status(status).into_response(status);
    // The route that refused, for the request metrics.
    if let Some(pattern) = err.data::<poem::PathPattern>() {
        response.set_data(pattern.clone());
    }
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            poem::http::header::WWW_AUTHENTICATE,
            poem::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

impl IntoResponse for ErrorBody {
    fn into_response(self) -> Response {
        ErrorBody::into_response(self, StatusCode::BAD_REQUEST)
    }
}
