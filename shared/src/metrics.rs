//! Prometheus metrics: one recorder per process (installed the first time
//! an app asks for it; every app of the process renders from it), the
//! request metrics the request log records, and `GET /metrics`.
//!
//! Series are recorded with the `metrics` macros where things happen (the
//! request log, the verifier, the revocation follower, the services' use
//! cases); without an installed recorder (`*_METRICS=off`) they cost
//! nothing. Gauges that describe a moment (is the revocation set current,
//! the database pool) are set by the service's [`Scrape`] hook just before
//! each rendering.

use std::collections::HashMap;
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response};

/// Where every service serves its metrics (not in the OpenAPI document,
/// not routed by the Ingress).
pub const PATH: &str = "/metrics";
/// `http_requests_total{method, route, status}`.
pub const HTTP_REQUESTS: &str = "http_requests_total";
/// `http_request_duration_seconds{method, route, status}` (a histogram).
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
/// `jwks_fetches_total{outcome="ok"|"failed"}`: JWKS documents fetched
/// by a verifier (at start, on unknown `kid`s, on key changes).
pub const JWKS_FETCHES: &str = "jwks_fetches_total";
/// `revocation_facts_applied_total`: facts a verifier's follower applied
/// from its feed (after the snapshot).
pub const REVOCATIONS_APPLIED: &str = "revocation_facts_applied_total";
/// `revocation_snapshots_total`: whole snapshots loaded (at start, after
/// the feed's store lost data).
pub const REVOCATION_SNAPSHOTS: &str = "revocation_snapshots_total";
/// `revocation_feed_errors_total{kind="unreachable"|"lost"}`.
pub const REVOCATION_FEED_ERRORS: &str = "revocation_feed_errors_total";
/// `revocation_feed_last_heard_timestamp_seconds`: unix time the feed
/// last answered (`time() - this` is the feed's silence).
pub const REVOCATION_FEED_HEARD: &str = "revocation_feed_last_heard_timestamp_seconds";
/// `revocation_facts_live`: facts the verifier holds.
pub const REVOCATION_FACTS_LIVE: &str = "revocation_facts_live";
/// `revocation_set_current` (1 or 0): whether the verifier trusts its set
/// (0: authenticated requests answer 503); set at each scrape.
pub const REVOCATION_SET_CURRENT: &str = "revocation_set_current";
/// `db_pool_connections` and `db_pool_idle_connections`: the database
/// pool's open and idle connections; set at each scrape.
pub const DB_POOL_CONNECTIONS: &str = "db_pool_connections";
pub const DB_POOL_IDLE: &str = "db_pool_idle_connections";
/// `revocation_facts_published_total{kind}`: facts the account manager
/// recorded and put on its feed (HTTP always, Redis when configured).
pub const REVOCATIONS_PUBLISHED: &str = "revocation_facts_published_total";
/// `auth_logins_total{outcome}`: logins and reactivations by outcome.
pub const LOGINS: &str = "auth_logins_total";
/// `auth_refreshes_total{outcome}`: refresh-token exchanges by outcome.
pub const REFRESHES: &str = "auth_refreshes_total";
/// `redis_errors_total{op}`: Redis calls that failed.
pub const REDIS_ERRORS: &str = "redis_errors_total";
/// `kanban_task_lists_total{answer="kept"|"written"}`: task lists answered
/// with the bytes kept for their board's version, or written.
pub const TASK_LISTS: &str = "kanban_task_lists_total";

/// `kanban_organization_lists_total{answer="kept"|"written"}`: organization
/// lists answered with the bytes kept for their boards' versions, or
/// written.
pub const ORGANIZATION_LISTS: &str = "kanban_organization_lists_total";

/// The `route` label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often the recorder folds the latency samples it holds into the
/// histograms' buckets (besides at every scrape).
const UPKEEP_EVERY: Duration = Duration::from_secs(1);

/// The process's recorder: installed on first use, shared by every app of
/// the process (tests start many). A thread of its own runs the recorder's
/// upkeep every [`UPKEEP_EVERY`]: the recorder keeps every latency sample
/// until an upkeep folds them into the buckets, so without it a process
/// nobody scrapes grows by each request's sample (megabytes per minute
/// under load).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    static UPKEEP: Once = Once::new();
    let handle = recorder(&HANDLE);
    UPKEEP.call_once(|| {
        let started = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    handle.run_upkeep();
                }
            });
        if let Err(error) = started {
            tracing::warn!(%error, "cannot start the metrics upkeep thread");
        }
    });
    handle
}

fn recorder(cell: &'static OnceLock<PrometheusHandle>) -> &'static PrometheusHandle {
    cell.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
            .expect("latency buckets are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            // Another recorder was installed by someone else: this handle
            // then renders nothing, which is not worth failing over.
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        handle
    })
}

/// What a service sets just before each rendering (gauges of the moment).
#[derive(Clone)]
pub struct Scrape(Arc<dyn Fn() + Send + Sync>);

impl Scrape {
    pub fn new(refresh: impl Fn() + Send + Sync + 'static) -> Self {
        Self(Arc::new(refresh))
    }
}

impl std::fmt::Debug for Scrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrape")
    }
}

/// `GET /metrics`: the Prometheus text format.
pub struct MetricsEndpoint {
    handle: &'static PrometheusHandle,
    scrape: Scrape,
}

impl MetricsEndpoint {
    /// Installs the process's recorder if it is not yet.
    pub fn new(scrape: Scrape) -> Self {
        Self {
            handle: handle(),
            scrape,
        }
    }
}

impl Endpoint for MetricsEndpoint {
    type Output = Response;

    async fn call(&self, _req: Request) -> poem::Result<Response> {
        (self.scrape.0)();
        self.handle.run_upkeep();
        Ok(self
            .handle
            .render()
            .with_content_type("text/plain; version=0.0.4; charset=utf-8")
            .with_status(StatusCode::OK)
            .into_response())
    }
}

/// A bounded `method` label.
pub fn method_label(method: &poem::http::Method) -> &'static str {
    use poem::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The route templates of an app, as the `route` label shows them:
/// poem-openapi registers `/users/{id}` as `/users/:param0`; this names it
/// back `/users/:id`.
#[derive(Debug, Default)]
pub struct RouteNames(HashMap<String, String>);

impl RouteNames {
    /// From the paths of the OpenAPI document (`/users/{id}`).
    pub fn from_openapi_paths<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names = HashMap::new();
        for path in paths {
            let (mut registered, mut shown, mut count) = (String::new(), String::new(), 0);
            for segment in path.split('/').filter(|segment| !segment.is_empty()) {
                match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => {
                        registered.push_str(&format!("/:param{count}"));
                        shown.push_str(&format!("/:{name}"));
                        count += 1;
                    }
                    None => {
                        registered.push('/');
                        registered.push_str(segment);
                        shown.push('/');
                        shown.push_str(segment);
                    }
                }
            }
            if count > 0 {
                names.entry(registered).or_insert(shown);
            }
        }
        Self(names)
    }

    /// From an OpenAPI document as JSON.
    pub fn from_openapi_json(document: &str) -> Self {
        let document: serde_json::Value = serde_json::from_str(document).unwrap_or_default();
        let paths = document
            .get("paths")
            .and_then(|paths| paths.as_object())
            .map(|paths| paths.keys().map(String::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        Self::from_openapi_paths(paths)
    }

    /// The route template poem matched (`/api/v1/admin/users/:id`), never
    /// the raw path: unknown paths are all [`UNMATCHED`], so the label stays
    /// bounded whatever clients send.
    pub fn label(&self, response: &Response) -> String {
        match response.data::<poem::PathPattern>() {
            Some(pattern) if is_template(&pattern.0) => {
                let pattern = normalize(&pattern.0);
                match self.0.get(&pattern) {
                    Some(shown) => shown.clone(),
                    None => pattern,
                }
            }
            _ => UNMATCHED.to_owned(),
        }
    }
}

/// True for a pattern naming one route (not the root nest's catch-all).
fn is_template(pattern: &str) -> bool {
    !pattern.contains('*') && pattern != "/" && !pattern.is_empty()
}

fn normalize(pattern: &str) -> String {
    let trimmed = pattern.trim_start_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}")
    }
}

/// Counts a request and its latency.
pub fn record_request(method: &'static str, route: String, status: u16, seconds: f64) {
    let status = status.to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status.clone())
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route, "status" => status)
        .record(seconds);
}

/// Sets the gauges every service reports at a scrape: whether its
/// revocation set is current, and its database pool's open and idle
/// connections (see [`crate::db::pool_size`]).
pub fn scrape_common(revocations_current: bool, pool: Option<(u32, usize)>) {
    metrics::gauge!(REVOCATION_SET_CURRENT).set(if revocations_current { 1.0 } else { 0.0 });
    if let Some((open, idle)) = pool {
        metrics::gauge!(DB_POOL_CONNECTIONS).set(f64::from(open));
        metrics::gauge!(DB_POOL_IDLE).set(idle as f64);
    }
}
