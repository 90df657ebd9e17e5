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
//! check on every answer that the two agree (see [`Written::of`]), so the
//! whole test suite and the fuzzing compare them.
//!
//! [`Written<T>`] is the same answer written at once, in the handler: for
//! a handler that must know its value is freed before it returns (kanban's
//! card lists give back their room in the card budget then), or that keeps
//! the answer to give it again (a clone shares the bytes).

use std::marker::PhantomData;

use bytes::Bytes;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use serde::Serialize;

/// The content type of both answers.
const JSON: &str = "application/json; charset=utf-8";

/// A JSON answer: documented as `T`'s schema, written with T's `Serialize`.
#[derive(Debug, Clone)]
pub struct Serialized<T>(pub T);

impl<T: Type> Payload for Serialized<T> {
    const CONTENT_TYPE: &'static str = JSON;

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
        Written::of(&self.0).into_response()
    }
}

impl<T: Serialize + ToJSON> ApiResponse for Serialized<T> {
    fn meta() -> MetaResponses {
        meta::<T>(Self::CONTENT_TYPE)
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A JSON answer already written: documented as `T`'s schema, holding the
/// bytes of T's `Serialize` form (nothing of the value itself).
pub struct Written<T> {
    /// `None` when the value could not be serialised (answered as a 500).
    body: Option<Bytes>,
    document: PhantomData<fn() -> T>,
}

impl<T> Clone for Written<T> {
    fn clone(&self) -> Self {
        Self {
            body: self.body.clone(),
            document: PhantomData,
        }
    }
}

impl<T> Written<T> {
    /// The body's length in bytes (0 when it could not be written).
    pub fn size(&self) -> usize {
        self.body.as_ref().map_or(0, Bytes::len)
    }

    /// Whether the value was written (a 500 otherwise).
    pub fn is_written(&self) -> bool {
        self.body.is_some()
    }
}

impl<T: Serialize + ToJSON> Written<T> {
    /// Writes `value` now.
    pub fn of(value: &T) -> Self {
        #[cfg(debug_assertions)]
        check_agreement(value);
        let body = serde_json::to_vec(value)
            .inspect_err(|err| {
                // Only a map with non-text keys fails to serialise; no view has one.
                tracing::error!(error = %err, "an answer could not be serialised");
            })
            .ok()
            // Written by doubling, the buffer may be twice the body; a body
            // kept for later answers holds only its own bytes.
            .map(|body| Bytes::from(body.into_boxed_slice()));
        Self {
            body,
            document: PhantomData,
        }
    }
}

impl<T: Type> Payload for Written<T> {
    const CONTENT_TYPE: &'static str = JSON;

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

impl<T: Send> IntoResponse for Written<T> {
    fn into_response(self) -> Response {
        match self.body {
            Some(body) => Response::builder()
                .header(header::CONTENT_TYPE, HeaderValue::from_static(JSON))
                .body(body),
            None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

impl<T: Type + Send> ApiResponse for Written<T> {
    fn meta() -> MetaResponses {
        meta::<T>(Self::CONTENT_TYPE)
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// One 200 answer of `T`'s schema.
fn meta<T: Type>(content_type: &'static str) -> MetaResponses {
    MetaResponses {
        responses: vec![MetaResponse {
            description: "",
            status: Some(200),
            status_range: None,
            content: vec![MetaMediaType {
                content_type,
                schema: T::schema_ref(),
            }],
            headers: vec![],
        }],
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
