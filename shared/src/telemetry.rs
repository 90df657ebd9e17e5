//! Logging: JSON lines (or human-readable text) via tracing-subscriber, and a
//! request-id middleware that tags every log line of a request.

use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides the default level.
/// Safe to call more than once (later calls do nothing).
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    // A panic is one log line (where and what), never a backtrace per
    // request: the client gets a plain 500 (see `http::app`).
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|at| format!("{}:{}", at.file(), at.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(%location, %message, "panic");
    }));
}

const REQUEST_ID: &str = "x-request-id";

/// The current request's id, as the request log gave it; handlers find it
/// in the request's extensions (for audit records, or to pass it on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Gives every request an id (the caller's `X-Request-Id` when it sends a
/// sane one), logs one line per request, echoes the id in the answer, and,
/// when `metrics` is on, counts the request and its latency by method,
/// route template and status (see [`crate::metrics`]).
pub struct RequestLog {
    /// The app's route names when metrics are on.
    pub metrics: Option<std::sync::Arc<crate::metrics::RouteNames>>,
}

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        RequestLogEndpoint {
            inner: ep,
            metrics: self.metrics.clone(),
        }
    }
}

pub struct RequestLogEndpoint<E> {
    inner: E,
    metrics: Option<std::sync::Arc<crate::metrics::RouteNames>>,
}

fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let id = request_id(&req);
        req.extensions_mut().insert(RequestId(id.clone()));
        let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
        // A verifier long-polls the revocation feed without pause, and
        // Prometheus scrapes: their answered calls are routine, not worth a
        // line each.
        let routine = matches!(
            req.uri().path(),
            crate::revocation::http::FEED_PATH | crate::metrics::PATH
        );
        let method = crate::metrics::method_label(req.method());
        let started = Instant::now();
        async move {
            let result = self.inner.call(req).await;
            let mut response = match result {
                Ok(output) => output.into_response(),
                Err(err) => err.into_response(),
            };
            let elapsed = started.elapsed();
            let (status, elapsed_ms) = (response.status().as_u16(), elapsed.as_millis() as u64);
            if let Some(routes) = &self.metrics {
                let route = routes.label(&response);
                crate::metrics::record_request(method, route, status, elapsed.as_secs_f64());
            }
            if routine && response.status().is_success() {
                tracing::debug!(status, elapsed_ms, "request");
            } else {
                tracing::info!(status, elapsed_ms, "request");
            }
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            Ok(response)
        }
        .instrument(span)
        .await
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
