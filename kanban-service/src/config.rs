//! Settings from `KANBAN_*` environment variables, with defaults that run
//! the service on a laptop next to an account manager on its default port.

use std::net::SocketAddr;
use std::time::Duration;

use shared::config::{ConfigError, EnvSource};

pub const ENV_PREFIX: &str = "KANBAN";

#[derive(Clone)]
pub struct Settings {
    /// `KANBAN_BIND` (default `127.0.0.1:8082`).
    pub bind: SocketAddr,
    /// `KANBAN_PUBLIC_URL`: the URL clients use (default `http://<bind>`).
    pub public_url: Option<String>,
    /// `KANBAN_DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `KANBAN_DATABASE_MAX_CONNECTIONS` (PostgreSQL; SQLite uses one).
    pub database_max_connections: u32,
    /// `KANBAN_AUTH_URL`: the account manager's base URL (default `http://127.0.0.1:8081`).
    pub auth_url: String,
    /// `KANBAN_AUTH_JWKS_URL` (default `<auth url>/.well-known/jwks.json`).
    pub jwks_url: String,
    /// `KANBAN_TOKEN_ISSUER`: the `iss` tokens must carry (default: the auth URL).
    pub token_issuer: String,
    /// `KANBAN_TOKEN_AUDIENCE` (default `api`).
    pub token_audience: String,
    /// `KANBAN_JWKS_MIN_REFETCH` (seconds, default 10): at most one JWKS fetch
    /// per this interval when a token names an unknown key (rotations and
    /// revoked keys arrive on the revocation feed, not through this).
    pub jwks_min_refetch: Duration,
    /// `KANBAN_AUTH_CLIENT_ID` / `KANBAN_AUTH_CLIENT_SECRET`: this service's
    /// client credentials at the account manager (for member look-ups).
    pub auth_client: Option<(String, String)>,
    /// `KANBAN_REDIS_URL`: follow the revocation feed in this Redis (the
    /// account manager's); unset: follow it over HTTP from the account
    /// manager (needs the client credentials, scope `revocations:read`).
    pub redis_url: Option<String>,
    /// `KANBAN_REDIS_PREFIX`: must equal the account manager's `AUTH_REDIS_PREFIX`.
    pub redis_prefix: String,
    /// `KANBAN_REVOCATION_STALENESS` (seconds, default 5, at least 2): how
    /// long the revocation set is trusted after the feed last answered;
    /// past it, every authenticated request answers 503 until it is back.
    pub revocation_staleness: Duration,
    /// `KANBAN_CORS_ORIGINS`: comma-separated origins browsers may call
    /// from (`*`: any). Unset, any origin is allowed only in the embedded
    /// mode (no `KANBAN_DATABASE_URL` set); otherwise none is.
    pub cors: shared::http::CorsPolicy,
    /// `KANBAN_MAX_BODY_BYTES` (default 1 MiB).
    pub max_body_bytes: usize,
    /// `KANBAN_LOG_FORMAT`: `json` (default) or `text`.
    pub log_json: bool,
    /// `KANBAN_METRICS` (`on` by default, or `off`): `GET /metrics` and
    /// the metrics recorded for it.
    pub metrics: bool,
    /// `KANBAN_MAX_CONNECTIONS`, `KANBAN_HEADER_TIMEOUT`, `KANBAN_BODY_TIMEOUT`,
    /// `KANBAN_IDLE_TIMEOUT`: see [`shared::connections::ConnectionLimits`].
    pub connections: shared::connections::ConnectionLimits,
    /// `KANBAN_SHUTDOWN_DELAY` and `KANBAN_SHUTDOWN_GRACE`: see
    /// [`shared::http::Shutdown`].
    pub shutdown: shared::http::Shutdown,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("auth_url", &self.auth_url)
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&EnvSource::from_env(ENV_PREFIX))
    }

    pub fn from_source(env: &EnvSource<'_>) -> Result<Self, ConfigError> {
        let auth_url = env
            .string("AUTH_URL", "http://127.0.0.1:8081")
            .trim_end_matches('/')
            .to_owned();
        let auth_client = match (env.get("AUTH_CLIENT_ID"), env.get("AUTH_CLIENT_SECRET")) {
            (Some(id), Some(secret)) => Some((id, secret)),
            _ => None,
        };
        Ok(Self {
            bind: env.parse("BIND", SocketAddr::from(([127, 0, 0, 1], 8082)))?,
            public_url: env
                .get("PUBLIC_URL")
                .map(|url| url.trim_end_matches('/').to_owned()),
            database_url: env.string("DATABASE_URL", "sqlite://data/kanban.db?mode=rwc"),
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 10)?,
            jwks_url: env.string(
                "AUTH_JWKS_URL",
                &format!("{auth_url}/.well-known/jwks.json"),
            ),
            token_issuer: env.string("TOKEN_ISSUER", &auth_url),
            token_audience: env.string("TOKEN_AUDIENCE", "api"),
            jwks_min_refetch: env.seconds("JWKS_MIN_REFETCH", Duration::from_secs(10))?,
            auth_client,
            auth_url,
            redis_url: env.get("REDIS_URL"),
            redis_prefix: env.string("REDIS_PREFIX", shared::revocation::DEFAULT_REDIS_PREFIX),
            revocation_staleness: env
                .seconds("REVOCATION_STALENESS", Duration::from_secs(5))?
                .max(shared::revocation::MIN_STALENESS),
            cors: shared::http::CorsPolicy::from_settings(
                env.list("CORS_ORIGINS"),
                env.get("DATABASE_URL").is_none(),
            ),
            max_body_bytes: env.parse("MAX_BODY_BYTES", 1024 * 1024)?,
            log_json: env.string("LOG_FORMAT", "json") != "text",
            metrics: env.switch("METRICS", true)?,
            connections: shared::connections::ConnectionLimits::from_source(env)?,
            shutdown: shared::http::Shutdown::from_source(env)?,
        })
    }
}
