//! Request-body size limit. Unlike poem's `SizeLimit`, it does not demand a
//! `Content-Length` (GETs and chunked uploads pass), and it enforces the
//! limit on the bytes actually read.
//!
//! It also refuses (400) a path or query that carries the NUL character
//! (`%00`): no parameter takes it, and PostgreSQL cannot store or compare
//! it. In bodies, the fields that are read refuse it themselves
//! ([`crate::required`]), so an ignored extra field may carry anything.

use poem::http::StatusCode;
use poem::http::header::CONTENT_LENGTH;
use poem::{Body, Endpoint, Middleware, Request, Result};

pub struct BodyLimit {
    max_bytes: usize,
}

impl BodyLimit {
    pub fn new(max_bytes: usize) -> Self {
        Self { max_bytes }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    max_bytes: usize,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.max_bytes as u64) {
            return Err(poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        let uri = req.uri();
        if uri.path().contains("%00") || uri.query().is_some_and(|query| query.contains("%00")) {
            return Err(poem::Error::from_status(StatusCode::BAD_REQUEST));
        }
        let body = req.take_body();
        if !body.is_empty() {
            let bytes = body
                .into_bytes_limit(self.max_bytes)
                .await
                .map_err(|_| poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE))?;
            req.set_body(Body::from_bytes(bytes));
        }
        self.inner.call(req).await
    }
}
