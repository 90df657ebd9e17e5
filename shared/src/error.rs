//! The error body every account-manager answer uses, and the mapping of
//! poem's own errors (unparsable bodies, unknown routes, oversized bodies)
//! to it, so that no answer leaks internal detail.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::Object;
use serde::Serialize;

/// `{"msg", "humanMsg"?, "resolve"?}`.
#[derive(Debug, Clone, Object, Serialize, PartialEq, Eq)]
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
}

impl ErrorBody {
    pub fn new(msg: impl Into<String>, human_msg: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            human_msg: Some(human_msg.into()),
            resolve: None,
        }
    }

    pub fn msg_only(msg: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            human_msg: None,
            resolve: None,
        }
    }

    pub fn with_resolve(mut self, resolve: impl Into<String>) -> Self {
        self.resolve = Some(resolve.into());
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
