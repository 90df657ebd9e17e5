//! What every service's HTTP side shares: binding the listener and the
//! layers around its OpenAPI routes.

use std::net::SocketAddr;
use std::sync::Arc;

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::middleware::Cors;
use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::{OpenApi, OpenApiService};

use crate::auth::Authenticator;
use crate::error::render_error;
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

/// The routes at `/`, Swagger UI at `/docs`, the document at `/openapi.json`,
/// with the body limit, the app state and authenticator, JSON error bodies,
/// CORS (any origin when `cors_origins` is empty) and request logs.
pub fn app<T: OpenApi + 'static, S: Send + Sync + 'static>(
    api: OpenApiService<T, ()>,
    state: Arc<S>,
    authenticator: Arc<Authenticator>,
    max_body_bytes: usize,
    cors_origins: &[String],
) -> impl Endpoint + use<T, S> {
    let docs = api.swagger_ui();
    let spec = api.spec_endpoint();
    let cors = cors_origins.iter().fold(Cors::new(), |cors, origin| {
        cors.allow_origin(origin.as_str())
    });
    Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/openapi.json", spec)
        .with(BodyLimit::new(max_body_bytes))
        .data(authenticator)
        .data(state)
        .catch_all_error(render_error)
        .with(cors)
        .with(RequestLog)
}
