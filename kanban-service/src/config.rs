//! Settings from `KANBAN_*` environment variables, with defaults that run
//! the service on a laptop next to an account manager on its default port.

use std::net::SocketAddr;
use std::time::Duration;

use shared::config::{ConfigError, EnvSource};

use crate::avatars::UrlTemplate;

pub const ENV_PREFIX: &str = "KANBAN";

/// The shortest client secret accepted (the account manager refuses
/// shorter ones too).
pub const MIN_SECRET_LEN: usize = 16;

#[derive(Clone)]
pub struct Settings {
    /// `KANBAN_BIND` (default `127.0.0.1:8082`).
    pub bind: SocketAddr,
    /// `KANBAN_PUBLIC_URL`: the URL clients use (default `http://<bind>`);
    /// also the base of the avatar URLs in `profile_picture`.
    pub public_url: Option<String>,
    /// `KANBAN_AVATAR_URL_TEMPLATE`: an external avatar service, `{name}`
    /// standing for the URL-encoded name (e.g.
    /// `https://ui-avatars.com/api/?name={name}`). Unset (the default),
    /// kanban serves the avatars itself and no name leaves it.
    pub avatar_url_template: Option<UrlTemplate>,
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
    /// account manager's: one server `redis://`, Sentinel
    /// `redis+sentinel://` or Cluster `redis+cluster://`); unset: follow it
    /// over HTTP from the account manager (needs the client credentials,
    /// scope `revocations:read`).
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
    /// `KANBAN_CARDS_IN_FLIGHT` (default 4000): cards held for answers at
    /// once; lists beyond it wait (see [`crate::api::card_budget`]).
    pub cards_in_flight: usize,
    /// `KANBAN_TASK_LIST_CACHE_BYTES` (default 8 MiB; 0: none): task lists
    /// kept as written, per board version (see [`crate::api::kept_lists`]).
    pub task_list_cache_bytes: u64,
    /// `KANBAN_ORGANIZATION_LIST_CACHE_BYTES` (default 2 MiB; 0: none):
    /// organization lists kept as written, per version of their boards
    /// (see [`crate::api::kept_lists`]).
    pub organization_list_cache_bytes: u64,
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
            .http_url("AUTH_URL")?
            .unwrap_or_else(|| "http://127.0.0.1:8081".to_owned());
        let auth_client = match (env.get("AUTH_CLIENT_ID"), env.get("AUTH_CLIENT_SECRET")) {
            (Some(_), Some(secret)) if secret.len() < MIN_SECRET_LEN => {
                return Err(ConfigError {
                    name: env.key("AUTH_CLIENT_SECRET"),
                    reason: format!("shorter than {MIN_SECRET_LEN} characters"),
                });
            }
            (Some(id), Some(secret)) => Some((id, secret)),
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(ConfigError {
                    name: env.key("AUTH_CLIENT_ID"),
                    reason: format!(
                        "set both {} and {}, or neither",
                        env.key("AUTH_CLIENT_ID"),
                        env.key("AUTH_CLIENT_SECRET")
                    ),
                });
            }
        };
        let jwks_url = env
            .http_url("AUTH_JWKS_URL")?
            .unwrap_or_else(|| format!("{auth_url}/.well-known/jwks.json"));
        Ok(Self {
            bind: env.parse("BIND", SocketAddr::from(([127, 0, 0, 1], 8082)))?,
            public_url: env.http_url("PUBLIC_URL")?,
            avatar_url_template: env
                .get("AVATAR_URL_TEMPLATE")
                .map(|template| UrlTemplate::new(&template))
                .transpose()
                .map_err(|reason| ConfigError {
                    name: env.key("AVATAR_URL_TEMPLATE"),
                    reason,
                })?,
            database_url: env.database_url("DATABASE_URL", "sqlite://data/kanban.db?mode=rwc")?,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 10)?,
            jwks_url,
            token_issuer: env.string("TOKEN_ISSUER", &auth_url),
            token_audience: env.string("TOKEN_AUDIENCE", "api"),
            jwks_min_refetch: env.seconds("JWKS_MIN_REFETCH", Duration::from_secs(10))?,
            auth_client,
            auth_url,
            redis_url: env.redis_url("REDIS_URL")?,
            redis_prefix: env.string("REDIS_PREFIX", shared::revocation::DEFAULT_REDIS_PREFIX),
            revocation_staleness: env
                .seconds("REVOCATION_STALENESS", Duration::from_secs(5))?
                .max(shared::revocation::MIN_STALENESS),
            cors: shared::http::CorsPolicy::from_settings(
                env.list("CORS_ORIGINS"),
                env.get("DATABASE_URL").is_none(),
            ),
            max_body_bytes: env.parse("MAX_BODY_BYTES", 1024 * 1024)?,
            cards_in_flight: env.parse("CARDS_IN_FLIGHT", 4000)?,
            task_list_cache_bytes: env.parse("TASK_LIST_CACHE_BYTES", 8 * 1024 * 1024)?,
            organization_list_cache_bytes: env
                .parse("ORGANIZATION_LIST_CACHE_BYTES", 2 * 1024 * 1024)?,
            log_json: env.log_json()?,
            metrics: env.switch("METRICS", true)?,
            connections: shared::connections::ConnectionLimits::from_source(env)?,
            shutdown: shared::http::Shutdown::from_source(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_source(&EnvSource::from_fn(ENV_PREFIX, |key| {
            vars.iter()
                .find(|(name, _)| *name == key)
                .map(|(_, value)| (*value).to_owned())
        }))
    }

    #[test]
    fn defaults_start_and_invalid_values_stop_with_the_variable_named() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.auth_url, "http://127.0.0.1:8081");
        assert_eq!(
            defaults.jwks_url,
            "http://127.0.0.1:8081/.well-known/jwks.json"
        );
        assert!(defaults.auth_client.is_none() && defaults.metrics);
        assert_eq!(defaults.avatar_url_template, None);
        let secret = "kanban-secret-0123456789";
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("KANBAN_AUTH_URL", "auth-service:8081")],
                "KANBAN_AUTH_URL",
            ),
            (&[("KANBAN_AUTH_URL", "ftp://auth")], "KANBAN_AUTH_URL"),
            (
                &[("KANBAN_AUTH_JWKS_URL", "/jwks.json")],
                "KANBAN_AUTH_JWKS_URL",
            ),
            (&[("KANBAN_PUBLIC_URL", "boards")], "KANBAN_PUBLIC_URL"),
            (
                &[("KANBAN_DATABASE_URL", "mysql://db/kanban")],
                "KANBAN_DATABASE_URL",
            ),
            (
                &[("KANBAN_REDIS_URL", "http://redis:6379")],
                "KANBAN_REDIS_URL",
            ),
            (
                &[("KANBAN_REDIS_URL", "redis+cluster://:pw@node:6379/1")],
                "KANBAN_REDIS_URL",
            ),
            (&[("KANBAN_LOG_FORMAT", "pretty")], "KANBAN_LOG_FORMAT"),
            (&[("KANBAN_METRICS", "sometimes")], "KANBAN_METRICS"),
            (
                &[(
                    "KANBAN_AVATAR_URL_TEMPLATE",
                    "https://avatars.example/a.png",
                )],
                "KANBAN_AVATAR_URL_TEMPLATE",
            ),
            (
                &[("KANBAN_AVATAR_URL_TEMPLATE", "//avatars.example/{name}")],
                "KANBAN_AVATAR_URL_TEMPLATE",
            ),
            (&[("KANBAN_SHUTDOWN_DELAY", "-1")], "KANBAN_SHUTDOWN_DELAY"),
            (
                &[
                    ("KANBAN_AUTH_CLIENT_ID", "kanban"),
                    ("KANBAN_AUTH_CLIENT_SECRET", "short"),
                ],
                "KANBAN_AUTH_CLIENT_SECRET",
            ),
            (
                &[("KANBAN_AUTH_CLIENT_ID", "kanban")],
                "KANBAN_AUTH_CLIENT_ID",
            ),
            (
                &[("KANBAN_AUTH_CLIENT_SECRET", secret)],
                "KANBAN_AUTH_CLIENT_ID",
            ),
        ];
        for (vars, name) in cases {
            let err = settings(vars).unwrap_err();
            assert_eq!(err.name, *name, "{vars:?}");
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("setting {name} is invalid: "))
                    && !message.contains('\n'),
                "one line naming the variable: {message}"
            );
            assert!(
                !message.contains(secret),
                "the secret is never shown: {message}"
            );
        }
        let good = settings(&[
            ("KANBAN_AUTH_URL", "http://auth-service:8081/"),
            ("KANBAN_AUTH_CLIENT_ID", "kanban"),
            ("KANBAN_AUTH_CLIENT_SECRET", secret),
            ("KANBAN_REDIS_URL", "redis://redis:6379/0"),
            (
                "KANBAN_AVATAR_URL_TEMPLATE",
                " https://avatars.example/{name}.png ",
            ),
        ])
        .unwrap();
        for topology in [
            "redis+sentinel://:pw@sentinel-0:26379,sentinel-1:26379/mymaster",
            "redis+cluster://:pw@redis-0:6379,redis-1:6379,redis-2:6379",
        ] {
            let settings = settings(&[
                ("KANBAN_AUTH_URL", "http://auth-service:8081/"),
                ("KANBAN_REDIS_URL", topology),
            ])
            .unwrap();
            assert_eq!(settings.redis_url.as_deref(), Some(topology));
        }
        assert_eq!(
            good.avatar_url_template
                .map(|template| template.url("Jane Doe")),
            Some("https://avatars.example/Jane%20Doe.png".to_owned())
        );
        assert_eq!(good.auth_url, "http://auth-service:8081");
        assert_eq!(
            good.jwks_url,
            "http://auth-service:8081/.well-known/jwks.json"
        );
        assert_eq!(
            good.auth_client,
            Some(("kanban".to_owned(), secret.to_owned()))
        );
    }
}
