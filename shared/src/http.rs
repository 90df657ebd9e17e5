//! What every service's HTTP side shares: binding the listener and the
//! layers around its OpenAPI routes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::middleware::{CatchPanic, Cors};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::{OpenApi, OpenApiService};

use crate::auth::Authenticator;
use crate::config::{ConfigError, EnvSource};
use crate::connections::GuardedAcceptor;
use crate::error::render_error;
use crate::health::Draining;
use crate::limits::BodyLimit;
use crate::telemetry::RequestLog;

/// Binds `address` (port 0 picks a free port); returns the acceptor and the
/// address it listens on.
pub async fn bind(address: SocketAddr) -> std::io::Result<(TcpAcceptor, SocketAddr)> {
    let acceptor = TcpListener::bind(address.to_string())
        .into_acceptor()
        .await?;
    let bound = acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr().copied())
        .ok_or_else(|| std::io::Error::other("the listener has no socket address"))?;
    Ok((acceptor, bound))
}

/// A bound listener and the URL clients reach it at.
pub struct Listening {
    pub acceptor: TcpAcceptor,
    pub address: SocketAddr,
    pub public_url: String,
}

/// Binds `address` and settles the public URL: `public_url` when one is
/// configured (without a trailing slash), else derived from the address.
pub async fn listen(address: SocketAddr, public_url: Option<&str>) -> std::io::Result<Listening> {
    let (acceptor, address) = bind(address).await?;
    let public_url = public_url.map_or_else(
        || default_public_url(address),
        |url| url.trim_end_matches('/').to_owned(),
    );
    Ok(Listening {
        acceptor,
        address,
        public_url,
    })
}

/// `http://host:port` for a bound address (127.0.0.1 for the unspecified one).
pub fn default_public_url(address: SocketAddr) -> String {
    let host = if address.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        address.ip().to_string()
    };
    format!("http://{host}:{}", address.port())
}

/// How a service stops on SIGTERM or Ctrl-C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    /// `*_SHUTDOWN_DELAY` (seconds, default 0): how long the service keeps
    /// accepting connections after the signal while `/readyz` answers 503,
    /// so load balancers stop sending before the listener closes.
    pub delay: Duration,
    /// `*_SHUTDOWN_GRACE` (seconds, default 20): how long in-flight
    /// requests then have to finish; connections still open after it are
    /// cut.
    pub grace: Duration,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            delay: Duration::ZERO,
            grace: Duration::from_secs(20),
        }
    }
}

impl Shutdown {
    pub fn from_source(env: &EnvSource<'_>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            delay: env.seconds("SHUTDOWN_DELAY", defaults.delay)?,
            grace: env.seconds("SHUTDOWN_GRACE", defaults.grace)?,
        })
    }
}

/// Serves `app` until `stop` completes, then shuts down gracefully:
/// `draining` is set at once (readiness answers 503), new connections are
/// still served for [`Shutdown::delay`], then the listener closes (new
/// connections are refused) and in-flight requests have
/// [`Shutdown::grace`] to finish.
pub async fn serve(
    acceptor: GuardedAcceptor,
    app: impl Endpoint + 'static,
    stop: impl Future<Output = ()> + Send + 'static,
    draining: Draining,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let stopping = async move {
        stop.await;
        draining.start();
        tracing::info!(
            delay_seconds = shutdown.delay.as_secs(),
            grace_seconds = shutdown.grace.as_secs(),
            "shutting down: readiness answers 503; new connections are served for the delay, then refused; in-flight requests have the grace to finish"
        );
        tokio::time::sleep(shutdown.delay).await;
    };
    let result = crate::server::serve_until(acceptor, app, stopping, shutdown.grace).await;
    tracing::info!("stopped");
    result
}

/// Which web origins browsers may call the service from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsPolicy {
    /// Any origin: the default only in the embedded development mode.
    AnyOrigin,
    /// These origins only (none: no cross-origin browser calls at all).
    Only(Vec<String>),
}

impl CorsPolicy {
    /// From the `*_CORS_ORIGINS` list (`*` allows any origin explicitly):
    /// unset, any origin is allowed only in the embedded mode (no database
    /// URL configured); any other deployment names its frontends.
    pub fn from_settings(origins: Vec<String>, embedded: bool) -> Self {
        let any = origins.iter().any(|origin| origin == "*");
        if any || (origins.is_empty() && embedded) {
            CorsPolicy::AnyOrigin
        } else {
            CorsPolicy::Only(origins)
        }
    }

    fn middleware(&self) -> Cors {
        match self {
            CorsPolicy::AnyOrigin => Cors::new(),
            CorsPolicy::Only(origins) => {
                let origins = origins.clone();
                Cors::new().allow_origins_fn(move |origin| origins.iter().any(|o| o == origin))
            }
        }
    }

    /// How the policy reads in the start-up log.
    pub fn describe(&self) -> String {
        match self {
            CorsPolicy::AnyOrigin => "any origin".to_owned(),
            CorsPolicy::Only(origins) if origins.is_empty() => "no cross-origin callers".to_owned(),
            CorsPolicy::Only(origins) => origins.join(", "),
        }
    }
}

/// The HTTP settings every service shares.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    pub cors: CorsPolicy,
    /// Sends `Strict-Transport-Security` (when the public URL is https).
    pub hsts: bool,
    /// Serves `GET /metrics` and records request metrics (`*_METRICS`,
    /// on by default), setting the service's gauges of the moment first.
    pub metrics: Option<crate::metrics::Scrape>,
    /// How the routes whose clients expect another error shape than the
    /// service's own word the refusals the framework makes itself.
    pub wording: Option<Wording>,
    /// What the service adds to its OpenAPI document (see
    /// [`crate::openapi::complete`]).
    pub document: Option<crate::openapi::Addition>,
}

/// Words the refusals the framework makes itself (a wrong method, a body
/// over the limit, ...) for the routes at `path` whose clients expect
/// another error shape (a seed dialect's); `None` keeps the service's own.
#[derive(Clone)]
pub struct Wording(Arc<WordFn>);

/// `path`, status → the answer in the route's own shape, if it has one.
type WordFn = dyn Fn(&str, StatusCode) -> Option<Response> + Send + Sync;

impl Wording {
    pub fn new(
        word: impl Fn(&str, StatusCode) -> Option<Response> + Send + Sync + 'static,
    ) -> Self {
        Wording(Arc::new(word))
    }
}

impl std::fmt::Debug for Wording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Wording")
    }
}

/// The methods each path of the OpenAPI document answers, for the `Allow`
/// header of a 405.
struct AllowedMethods(Vec<(Vec<Option<String>>, String)>);

impl AllowedMethods {
    fn from_openapi_json(document: &str) -> Self {
        let document: serde_json::Value = serde_json::from_str(document).unwrap_or_default();
        let mut paths = Vec::new();
        if let Some(entries) = document.get("paths").and_then(|paths| paths.as_object()) {
            for (path, operations) in entries {
                let segments = path
                    .split('/')
                    .filter(|segment| !segment.is_empty())
                    .map(|segment| (!segment.starts_with('{')).then(|| segment.to_owned()))
                    .collect();
                let mut methods: Vec<String> = operations
                    .as_object()
                    .map(|operations| operations.keys().map(|m| m.to_uppercase()).collect())
                    .unwrap_or_default();
                methods.sort();
                paths.push((segments, methods.join(", ")));
            }
        }
        AllowedMethods(paths)
    }

    /// The methods of the documented path `path` matches (literal segments
    /// preferred over parameters), if any.
    fn of(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.0
            .iter()
            .filter(|(template, _)| {
                template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(part, segment)| part.as_deref().is_none_or(|part| part == *segment))
            })
            .max_by_key(|(template, _)| template.iter().filter(|part| part.is_some()).count())
            .map(|(_, methods)| methods.as_str())
    }
}

/// The refusals the framework makes itself (an unknown path, a wrong
/// method, a body over the limit, ...): in the route's own shape where it
/// has one ([`Wording`]), the service's otherwise, and a 405 with the
/// `Allow` header RFC 9110 asks for.
struct FrameworkRefusals {
    wording: Option<Wording>,
    allowed: Arc<AllowedMethods>,
}

impl<E: Endpoint> poem::Middleware<E> for FrameworkRefusals {
    type Output = FrameworkRefusalsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        FrameworkRefusalsEndpoint {
            inner,
            wording: self.wording.clone(),
            allowed: self.allowed.clone(),
        }
    }
}

struct FrameworkRefusalsEndpoint<E> {
    inner: E,
    wording: Option<Wording>,
    allowed: Arc<AllowedMethods>,
}

impl<E: Endpoint> Endpoint for FrameworkRefusalsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path().to_owned();
        let err = match self.inner.call(req).await {
            Ok(answer) => return Ok(answer.into_response()),
            Err(err) if err.is_from_response() => return Err(err),
            Err(err) => err,
        };
        let status = err.status();
        let worded = self
            .wording
            .as_ref()
            .and_then(|wording| (wording.0)(&path, status));
        let mut answer = match worded {
            Some(answer) => {
                tracing::debug!(error = %err, %status, "request refused");
                answer
            }
            None => render_error(err).await,
        };
        if status == StatusCode::METHOD_NOT_ALLOWED
            && let Some(methods) = self.allowed.of(&path)
            && let Ok(value) = poem::http::HeaderValue::from_str(methods)
        {
            answer
                .headers_mut()
                .insert(poem::http::header::ALLOW, value);
        }
        Ok(answer)
    }
}

/// The routes at `/` (of the service `api` makes), Swagger UI at `/docs`,
/// the document at `/openapi.json`, the metrics at `/metrics` (when on: a
/// plain route, outside the document), with the body limit, the app state
/// and authenticator, JSON error bodies, CORS, security headers and
/// request logs.
pub fn app<T, S, A>(
    api: A,
    state: Arc<S>,
    authenticator: Arc<Authenticator>,
    options: &HttpOptions,
) -> impl Endpoint + use<T, S, A>
where
    T: OpenApi + 'static,
    S: Send + Sync + 'static,
    A: Fn() -> OpenApiService<T, ()> + Send + Sync + 'static,
{
    // The document, rendered and completed once: served at
    // `/openapi.json`, shown at `/docs`, and read for the tables below.
    let service = api();
    let document = crate::openapi::complete(&service.spec(), options.document);
    // The Swagger UI page inlines its 1.3 MB script and the document: made
    // when asked for (people read it, rarely), not kept (3 MiB resident).
    let shown = document.clone();
    let docs = poem::endpoint::make_sync(move |_| {
        let service = api();
        poem::web::Html(
            service
                .swagger_ui_html()
                .replacen(&service.spec(), &shown, 1),
        )
    });
    let served = document.clone();
    let spec = poem::endpoint::make_sync(move |_| {
        Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(served.clone())
    });
    let allowed = Arc::new(AllowedMethods::from_openapi_json(&document));
    let route_names = options
        .metrics
        .as_ref()
        .map(|_| Arc::new(crate::metrics::RouteNames::from_openapi_json(&document)));
    let mut routes = Route::new()
        .nest("/", service)
        .nest("/docs", docs)
        .at("/openapi.json", spec);
    if let Some(scrape) = &options.metrics {
        routes = routes.at(
            crate::metrics::PATH,
            poem::get(crate::metrics::MetricsEndpoint::new(scrape.clone())),
        );
    }
    routes
        .with(BodyLimit::new(options.max_body_bytes))
        .with(FrameworkRefusals {
            wording: options.wording.clone(),
            allowed,
        })
        .data(authenticator)
        .data(state)
        .catch_all_error(render_error)
        .with(CatchPanic::new().with_handler(panic_answer))
        .with(options.cors.middleware())
        .with(SecurityHeaders { hsts: options.hsts })
        .with(RequestLog {
            metrics: route_names,
        })
}

/// A handler that panicked: the panic is logged (one line, by the hook
/// [`crate::telemetry::init`] installs), the client gets the plain 500.
fn panic_answer(_panic: Box<dyn std::any::Any + Send + 'static>) -> poem::Response {
    crate::error::ErrorBody::internal()
        .with_code(crate::error::codes::INTERNAL)
        .into_response(poem::http::StatusCode::INTERNAL_SERVER_ERROR)
}

/// The policy of every answer but the docs: nothing may load, nothing may
/// frame it.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
/// Swagger UI is one page with inline script and style, calling this origin.
const DOCS_CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Security headers on every answer: `nosniff`, no referrer, a content
/// security policy (the docs' lets Swagger UI run), no framing, HSTS when
/// configured, and `Cache-Control: no-store` unless the route chose its own
/// caching (so no answer carrying a token or user data is ever stored).
struct SecurityHeaders {
    hsts: bool,
}

impl<E: Endpoint> poem::Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint {
            inner,
            hsts: self.hsts,
        }
    }
}

struct SecurityHeadersEndpoint<E> {
    inner: E,
    hsts: bool,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<Self::Output> {
        use poem::IntoResponse;
        use poem::http::{HeaderValue, header};
        let docs = req.uri().path().starts_with("/docs");
        let mut response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            Err(err) => err.into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        let csp = if docs { DOCS_CSP } else { API_CSP };
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if self.hsts {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Panicking;

    #[poem_openapi::OpenApi]
    impl Panicking {
        #[oai(path = "/boom", method = "get")]
        async fn boom(&self) -> poem_openapi::payload::PlainText<String> {
            let huge: u64 = u64::MAX;
            let offset = i64::try_from(huge).expect("an offset the database can hold");
            poem_openapi::payload::PlainText(offset.to_string())
        }

        #[oai(path = "/items/:id", method = "get")]
        async fn item(
            &self,
            id: poem_openapi::param::Path<i64>,
        ) -> poem::Result<poem_openapi::payload::PlainText<String>> {
            if id.0 == 404 {
                return Err(poem::Error::from_status(poem::http::StatusCode::NOT_FOUND));
            }
            Ok(poem_openapi::payload::PlainText(id.0.to_string()))
        }
    }

    fn test_authenticator() -> Arc<Authenticator> {
        let verifier = crate::verifier::TokenVerifier::new(
            Arc::new(crate::verifier::JwksKeySource::new(
                "http://127.0.0.1:9/jwks",
                reqwest::Client::new(),
                std::time::Duration::from_secs(1),
            )),
            "issuer",
            "api",
        );
        Arc::new(Authenticator::new(
            verifier,
            Arc::new(crate::revocation::RevocationSet::new(
                std::time::Duration::from_secs(5),
            )) as Arc<dyn crate::revocation::RevocationCheck>,
            serde_json::json!({"msg": "unauthorized"}),
            serde_json::json!({"msg": "unavailable"}),
        ))
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_plain_500() {
        let authenticator = test_authenticator();
        let options = HttpOptions {
            max_body_bytes: 1024,
            cors: CorsPolicy::Only(vec![]),
            hsts: false,
            metrics: None,
            wording: None,
            document: None,
        };
        let api = || OpenApiService::new(Panicking, "test", "1");
        let app = app(api, Arc::new(()), authenticator, &options);
        let (acceptor, address) = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let server = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        let answer = reqwest::get(format!("http://{address}/boom"))
            .await
            .unwrap();
        assert_eq!(answer.status(), reqwest::StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(
            body,
            serde_json::json!({"msg": "Internal server error", "code": "internal"})
        );
        server.abort();
    }

    /// The value of the request counter with exactly these labels.
    fn requests(text: &str, method: &str, route: &str, status: &str) -> f64 {
        let wanted = format!(
            "http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} "
        );
        text.lines()
            .find_map(|line| line.strip_prefix(&wanted))
            .map_or(0.0, |value| value.trim().parse().unwrap())
    }

    #[tokio::test]
    async fn requests_are_counted_by_route_template_never_by_raw_path() {
        let options = HttpOptions {
            max_body_bytes: 1024,
            cors: CorsPolicy::Only(vec![]),
            hsts: false,
            metrics: Some(crate::metrics::Scrape::new(|| {
                metrics::gauge!("test_scrape_hook_ran").set(1.0);
            })),
            wording: None,
            document: None,
        };
        let api = || OpenApiService::new(Panicking, "test", "1");
        let app = app(api, Arc::new(()), test_authenticator(), &options);
        let (acceptor, address) = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let server = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        let base = format!("http://{address}");
        let scrape = || async {
            let answer = reqwest::get(format!("{base}/metrics")).await.unwrap();
            assert_eq!(answer.status(), reqwest::StatusCode::OK);
            answer.text().await.unwrap()
        };
        let before = scrape().await;
        for path in [
            "/items/1",
            "/items/2",
            "/items/404",
            "/nowhere/7",
            "/items/x",
        ] {
            reqwest::get(format!("{base}{path}")).await.unwrap();
        }
        let after = scrape().await;
        let moved = |method, route, status| {
            requests(&after, method, route, status) - requests(&before, method, route, status)
        };
        assert_eq!(moved("GET", "/items/:id", "200"), 2.0, "{after}");
        assert_eq!(moved("GET", "/items/:id", "404"), 1.0, "{after}");
        assert_eq!(moved("GET", "/items/:id", "400"), 1.0, "{after}");
        assert!(moved("GET", "unmatched", "404") >= 1.0, "{after}");
        assert!(!after.contains("/items/1\""), "no raw path is a label");
        assert!(after.contains("test_scrape_hook_ran 1"), "{after}");
        assert!(
            after.contains("http_request_duration_seconds_bucket{"),
            "{after}"
        );
        server.abort();
    }

    #[test]
    fn cors_is_open_only_when_embedded_or_asked_for() {
        assert_eq!(
            CorsPolicy::from_settings(vec![], true),
            CorsPolicy::AnyOrigin
        );
        assert_eq!(
            CorsPolicy::from_settings(vec![], false),
            CorsPolicy::Only(vec![])
        );
        let listed = vec!["https://app.example".to_owned()];
        assert_eq!(
            CorsPolicy::from_settings(listed.clone(), true),
            CorsPolicy::Only(listed)
        );
        assert_eq!(
            CorsPolicy::from_settings(vec!["*".into()], false),
            CorsPolicy::AnyOrigin
        );
    }
}
