//! A JSON answer written straight from its value with serde.
//!
//! poem-openapi's `Json<T>` answers by building a `serde_json::Value` tree
//! of the whole answer (`ToJSON`), serialising the tree, then freeing it: for
//! a list of hundreds of cards that is most of a request's CPU and most of
//! its allocations. [`Serialized<T>`] documents the same schema as
//! `Json<T>` (T's) but writes T's serde form to the body in one pass.
//!
//! So T derives both `poem_openapi::Object` (for the document) and
//! `serde::Serialize` (for the bytes), with the same names. Debug builds
//! check on every answer that the two agree (see [`Serialized`]'s
//! `IntoResponse`), so the whole test suite and the fuzzing compare them.

use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use serde::Serialize;

/// A JSON answer: documented as `T`'s schema, written with T's `Serialize`.
#[derive(Debug, Clone)]
pub struct Serialized<T>(pub T);

impl<T: Type> Payload for Serialized<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        Json::<T>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + ToJSON> IntoResponse for Serialized<T> {
    fn into_response(self) -> Response {
        #[cfg(debug_assertions)]
        check_agreement(&self.0);
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder()
                .header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(Self::CONTENT_TYPE),
                )
                .body(body),
            Err(err) => {
                // Only a map with non-text keys fails to serialise; no view has one.
                tracing::error!(error = %err, "an answer could not be serialised");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

impl<T: Serialize + ToJSON> ApiResponse for Serialized<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Panics when T's serde form differs from the form its document
/// describes (`ToJSON`): a field renamed in one derive and not the other,
/// or an absent field written as `null`.
pub fn check_agreement<T: Serialize + ToJSON>(value: &T) {
    let serde = serde_json::to_value(value).expect("views serialise");
    let documented = value.to_json().unwrap_or(serde_json::Value::Null);
    assert_eq!(
        serde,
        documented,
        "{}: serde and the documented JSON differ",
        std::any::type_name::<T>()
    );
}
