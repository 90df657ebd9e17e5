//! What the seed dialects share at the edge: a request body read as JSON or
//! as a form that the framework never refuses, so that every dialect
//! answers malformed, missing and wrongly typed fields in its own words.

use std::marker::PhantomData;

use poem::{IntoResponse, Request, RequestBody, Response};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions};
use serde_json::{Map, Value};

use super::error::{ApiError, retry_headers};

/// A dialect's refusal, ready to send: a JSON body in the dialect's shape
/// with its status. `R` documents the dialect's refusals in the OpenAPI
/// document.
pub struct Refused<R>(Box<Response>, PhantomData<fn() -> R>);

impl<R> Refused<R> {
    pub fn json(status: u16, body: Value) -> Self {
        let status = poem::http::StatusCode::from_u16(status)
            .unwrap_or(poem::http::StatusCode::INTERNAL_SERVER_ERROR);
        let response = poem::web::Json(body).with_status(status).into_response();
        Refused(Box::new(response), PhantomData)
    }

    /// A refusal of the shared API edge in a dialect's words (`words`,
    /// which hands back the errors it has none for), with the retry
    /// headers every dialect's 429 and 503 carry. The errors no dialect
    /// route meets keep their status, with its reason as the text.
    pub fn of(
        err: ApiError,
        words: impl FnOnce(ApiError) -> Result<Self, ApiError>,
        text: impl FnOnce(u16, &str) -> Self,
    ) -> Self {
        let exceeded = match &err {
            ApiError::RateLimited(exceeded) => Some(*exceeded),
            _ => None,
        };
        let mut refused = words(err).unwrap_or_else(|other| {
            let status = shared::error::ErrorResponse::from(other).status();
            text(
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error"),
            )
        });
        retry_headers(exceeded, &mut refused.0);
        refused
    }
}

impl<R: ApiResponse> ApiResponse for Refused<R> {
    fn meta() -> MetaResponses {
        R::meta()
    }

    fn register(registry: &mut Registry) {
        R::register(registry);
    }
}

impl<R> IntoResponse for Refused<R> {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl<R> From<Refused<R>> for poem::Error {
    fn from(refused: Refused<R>) -> poem::Error {
        poem::Error::from_response(*refused.0)
    }
}

/// The words of a refusal the framework makes itself (see
/// [`shared::http::Wording`]), for a dialect to put in its own shape.
pub fn framework_reason(status: poem::http::StatusCode) -> &'static str {
    use poem::http::StatusCode;
    match status {
        StatusCode::BAD_REQUEST => "The request is malformed.",
        StatusCode::NOT_FOUND => "Not found.",
        StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed here.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Send the body as JSON or as a form.",
        status if status.is_server_error() => "Something went wrong on our side.",
        status => status
            .canonical_reason()
            .unwrap_or("The request was refused."),
    }
}

/// A field that is an object or an array where text was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotText;

/// Why a body could not be read as fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not JSON (or not a form when it says it is one).
    Unparsable,
    /// JSON, but not an object.
    NotAnObject,
}

/// The fields of a JSON or form-encoded body, as sent. `S` only documents
/// the body in the OpenAPI document.
pub struct Fields<S> {
    pub fields: Result<Map<String, Value>, Malformed>,
    _schema: PhantomData<S>,
}

impl<S> Fields<S> {
    /// A field as text: strings as they are, numbers and booleans written
    /// out (as form values and most frameworks take them); `None` when
    /// absent or null, `Err` when an object or array.
    pub fn text(&self, name: &str) -> Result<Option<String>, NotText> {
        let Ok(fields) = &self.fields else {
            return Ok(None);
        };
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            // U+0000 is no character of any field (PostgreSQL cannot
            // store or compare it): refused like a value that is not text.
            Some(Value::String(text)) if text.contains('\0') => Err(NotText),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(Value::Bool(flag)) => Ok(Some(flag.to_string())),
            Some(_) => Err(NotText),
        }
    }

    /// Whether the field was sent with the value `null`.
    pub fn is_null(&self, name: &str) -> bool {
        matches!(&self.fields, Ok(fields) if fields.get(name) == Some(&Value::Null))
    }
}

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

fn read(content_type: Option<&str>, bytes: &[u8]) -> Result<Map<String, Value>, Malformed> {
    let is_form = content_type.is_some_and(|kind| kind.starts_with(FORM));
    if is_form {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(bytes).map_err(|_| Malformed::Unparsable)?;
        return Ok(pairs
            .into_iter()
            .map(|(name, value)| (name, Value::String(value)))
            .collect());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(Malformed::NotAnObject),
        Err(_) => Err(Malformed::Unparsable),
    }
}

impl<'a, S: Type> ApiExtractor<'a> for Fields<S> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        S::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![
                MetaMediaType {
                    content_type: JSON,
                    schema: S::schema_ref(),
                },
                MetaMediaType {
                    content_type: FORM,
                    schema: S::schema_ref(),
                },
            ],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        // A body over the size limit fails here and is answered 413.
        let bytes = body.take()?.into_bytes().await?;
        Ok(Fields {
            fields: read(request.content_type(), &bytes),
            _schema: PhantomData,
        })
    }
}

/// The account an access token speaks for: 401 for a token that is not
/// accepted (or whose account is gone), 503 when revocations cannot be
/// checked now.
pub async fn account_of(
    state: &crate::state::AppState,
    token: &str,
) -> Result<crate::accounts::Account, ApiError> {
    let user = match state.authenticator.authenticate(token).await {
        Ok(user) => user,
        Err(failure) if failure.is_unavailable() => return Err(ApiError::Unavailable),
        Err(_) => return Err(ApiError::Unauthenticated),
    };
    let id = user.claims.user_id().ok_or(ApiError::Unauthenticated)?;
    state
        .accounts()
        .current(id)
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::Unauthenticated)
}

/// The bearer token of an `Authorization` header, if any.
pub fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(poem::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_as_json_or_forms() {
        let json = read(Some(JSON), br#"{"username": "ann", "n": 3}"#).unwrap();
        assert_eq!(json["username"], "ann");
        let form = read(Some(FORM), b"username=ann&password=a+b%21").unwrap();
        assert_eq!(form["password"], "a b!");
        assert_eq!(read(None, b"").unwrap().len(), 0);
        assert_eq!(read(Some(JSON), b"[1]"), Err(Malformed::NotAnObject));
        assert_eq!(read(Some(JSON), b"{nope"), Err(Malformed::Unparsable));
        assert_eq!(
            read(Some("text/plain"), b"hello"),
            Err(Malformed::Unparsable)
        );
    }

    #[test]
    fn fields_read_as_text() {
        let fields: Fields<String> = Fields {
            fields: read(Some(JSON), br#"{"a": "x", "b": 5, "c": null, "d": [1]}"#),
            _schema: PhantomData,
        };
        assert_eq!(fields.text("a"), Ok(Some("x".to_owned())));
        assert_eq!(fields.text("b"), Ok(Some("5".to_owned())));
        assert_eq!(fields.text("c"), Ok(None));
        assert!(fields.is_null("c"));
        assert_eq!(fields.text("d"), Err(NotText));
        assert_eq!(fields.text("e"), Ok(None));
    }
}
