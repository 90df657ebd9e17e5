//! Settings from `AUTH_*` environment variables, with defaults that run the
//! service on a laptop with nothing else installed (SQLite, no Redis).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use shared::config::{ConfigError, EnvSource};

pub const ENV_PREFIX: &str = "AUTH";

#[derive(Debug, Clone)]
pub struct Settings {
    /// `AUTH_BIND`: where to listen (port 0 picks a free port).
    pub bind: SocketAddr,
    /// `AUTH_PUBLIC_URL`: the URL clients reach the service at; the token
    /// issuer (`iss`). Defaults to `http://<bind address>`.
    pub public_url: Option<String>,
    /// `AUTH_TOKEN_AUDIENCE`: the `aud` of access tokens.
    pub audience: String,
    /// `AUTH_DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `AUTH_DATABASE_MAX_CONNECTIONS` (PostgreSQL; SQLite uses one).
    pub database_max_connections: u32,
    /// `AUTH_REDIS_URL`: when set, revocation state (and the rate-limit
    /// counters) live in Redis: one server (`redis://`), the master Sentinel
    /// names (`redis+sentinel://`) or a Redis Cluster (`redis+cluster://`).
    pub redis_url: Option<String>,
    /// `AUTH_REDIS_PREFIX`: key prefix of the revocation feed in Redis.
    pub redis_prefix: String,
    /// `AUTH_REVOCATION_STALENESS` (seconds, default 5, at least 2): how long
    /// this service's own verifier trusts its revocation set after the feed
    /// last answered; past it, protected routes answer 503.
    pub revocation_staleness: Duration,
    /// `AUTH_ACCOUNT_CACHE_ENTRIES` (default 10000; 0: none): accounts kept
    /// in memory for `me` (see [`crate::accounts::kept`]).
    pub account_cache_entries: usize,
    /// `AUTH_ACCOUNT_CACHE_TTL` (seconds, default 60): the longest a kept
    /// account is answered; bounds only changes made to the database by
    /// hand, since every change the service makes is heard at once.
    pub account_cache_ttl: Duration,
    pub tokens: TokenSettings,
    pub passwords: PasswordSettings,
    /// `AUTH_SERVICE_CLIENTS`: comma-separated `client_id:secret[:scope scope…]`
    /// entries that may obtain service tokens (default scopes `users:read
    /// revocations:read sessions:extended`).
    pub service_clients: Vec<ServiceClient>,
    /// `AUTH_CORS_ORIGINS`: comma-separated origins browsers may call
    /// from (`*`: any). Unset, any origin is allowed only in the embedded
    /// mode (no `AUTH_DATABASE_URL` set); otherwise none is.
    pub cors: shared::http::CorsPolicy,
    /// `AUTH_MAX_BODY_BYTES`: larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    /// `AUTH_LOG_FORMAT`: `json` (default) or `text`.
    pub log_json: bool,
    /// `AUTH_METRICS` (`on` by default, or `off`): `GET /metrics` and
    /// the metrics recorded for it.
    pub metrics: bool,
    /// `AUTH_MAX_CONNECTIONS`, `AUTH_HEADER_TIMEOUT`, `AUTH_BODY_TIMEOUT`,
    /// `AUTH_IDLE_TIMEOUT`: see [`shared::connections::ConnectionLimits`].
    pub connections: shared::connections::ConnectionLimits,
    /// `AUTH_SHUTDOWN_DELAY` and `AUTH_SHUTDOWN_GRACE`: see
    /// [`shared::http::Shutdown`].
    pub shutdown: shared::http::Shutdown,
    pub accounts: AccountSettings,
    pub mail: MailSettings,
    pub google: GoogleSettings,
    /// `AUTH_LOGIN_LIMIT` (`30/60`: logins and reactivations per client
    /// address per 60 s), `AUTH_LOGIN_FAILURE_LIMIT` (`5/300`: wrong
    /// passwords per account and address), `AUTH_REGISTER_LIMIT`
    /// (`10/3600`), `AUTH_REFRESH_LIMIT` (`120/60`), `AUTH_RECOVERY_LIMIT`
    /// (`5/900`: reset and verification mails asked for), all per address.
    pub limits: crate::throttle::Limits,
    /// `AUTH_TRUSTED_PROXIES`: comma-separated addresses or blocks
    /// (`10.0.0.0/8`) whose `X-Forwarded-For` / `Forwarded` headers name the
    /// client; unset, the socket's peer is the client.
    pub trusted_proxies: Vec<crate::throttle::Network>,
}

#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// `AUTH_EMAIL_VERIFICATION`: `optional` (default) or `required` (new
    /// accounts get a verification mail and cannot log in before using it).
    pub email_verification_required: bool,
    /// `AUTH_PASSWORD_RESET_TTL` (seconds, default 1800): how long a reset
    /// link works.
    pub reset_ttl: Duration,
    /// `AUTH_PASSWORD_RESET_URL`: the frontend page reset links lead to
    /// (`?token=` is added); default `<public URL>/reset-password`.
    pub reset_url: Option<String>,
    /// `AUTH_EMAIL_VERIFY_URL`: where verification links lead (`?token=` is
    /// added); default this service's `GET /api/v1/auth/verify-email`.
    pub verify_url: Option<String>,
    /// `AUTH_AUDIT_RETENTION_DAYS` (default 365; 0 keeps them for ever):
    /// how long audit events are kept.
    pub audit_retention: Option<Duration>,
}

/// Seconds in a day.
const DAY: u64 = 24 * 3600;

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            email_verification_required: false,
            reset_ttl: Duration::from_secs(30 * 60),
            reset_url: None,
            verify_url: None,
            audit_retention: Some(Duration::from_secs(365 * DAY)),
        }
    }
}

/// Sign-in with Google ID tokens (`POST /api/v1/auth/login/google`).
#[derive(Debug, Clone)]
pub struct GoogleSettings {
    /// `AUTH_GOOGLE_CLIENT_IDS`: comma-separated OAuth client ids of the
    /// frontends (a token's `aud` must be one of them); empty: Google
    /// sign-in is off and its route answers 503.
    pub client_ids: Vec<String>,
    /// `AUTH_GOOGLE_JWKS_URL`: where Google's signing keys are published
    /// (default `https://www.googleapis.com/oauth2/v3/certs`).
    pub jwks_url: String,
    /// `AUTH_GOOGLE_ISSUERS`: comma-separated `iss` values accepted (default
    /// `accounts.google.com` and `https://accounts.google.com`).
    pub issuers: Vec<String>,
    /// `AUTH_GOOGLE_JWKS_MIN_REFETCH` (seconds, default 10): the least time
    /// between two fetches of the JWKS caused by a token naming an unknown
    /// `kid` (failed fetches count too).
    pub jwks_min_refetch: Duration,
}

pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
pub const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];

impl GoogleSettings {
    pub fn enabled(&self) -> bool {
        !self.client_ids.is_empty()
    }
}

impl Default for GoogleSettings {
    fn default() -> Self {
        Self {
            client_ids: Vec::new(),
            jwks_url: GOOGLE_JWKS_URL.to_owned(),
            issuers: GOOGLE_ISSUERS.map(str::to_owned).to_vec(),
            jwks_min_refetch: Duration::from_secs(10),
        }
    }
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required), port 587.
    StartTls,
    /// TLS from the first byte, port 465.
    Tls,
    /// No encryption, port 25: only for a relay on the same host or network.
    None,
}

impl SmtpTls {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
            SmtpTls::None => "none",
        }
    }
}

impl std::str::FromStr for SmtpTls {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            "none" => Ok(SmtpTls::None),
            _ => Err("one of starttls, tls, none".to_owned()),
        }
    }
}

/// Outgoing mail (password reset, email verification).
#[derive(Clone)]
pub struct MailSettings {
    /// `AUTH_SMTP_HOST`: the relay; unset, mail is written to the outbox.
    pub smtp_host: Option<String>,
    /// `AUTH_SMTP_PORT`: default 587 (starttls), 465 (tls) or 25 (none).
    pub smtp_port: Option<u16>,
    /// `AUTH_SMTP_TLS`: `starttls` (default), `tls` or `none`.
    pub smtp_tls: SmtpTls,
    /// `AUTH_SMTP_USERNAME` and `AUTH_SMTP_PASSWORD`: credentials, if the
    /// relay wants them.
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// `AUTH_MAIL_FROM`: the sender, e.g. `Boards <no-reply@example.com>`.
    pub from: String,
    /// `AUTH_MAIL_OUTBOX`: the folder mail is written to without a relay
    /// (default `data/outbox`).
    pub outbox: PathBuf,
}

impl MailSettings {
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port.unwrap_or(match self.smtp_tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_host: None,
            smtp_port: None,
            smtp_tls: SmtpTls::StartTls,
            smtp_username: None,
            smtp_password: None,
            from: "Account manager <no-reply@localhost>".to_owned(),
            outbox: PathBuf::from("data/outbox"),
        }
    }
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port())
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("from", &self.from)
            .field("outbox", &self.outbox)
            .finish_non_exhaustive()
    }
}

/// Another service allowed to call the account manager.
#[derive(Clone)]
pub struct ServiceClient {
    pub id: String,
    pub secret: String,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for ServiceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceClient")
            .field("id", &self.id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl ServiceClient {
    /// Parses `client_id:secret[:scope scope…]`.
    pub fn parse(entry: &str) -> Option<ServiceClient> {
        let mut parts = entry.splitn(3, ':');
        let id = parts.next()?.trim();
        let secret = parts.next()?.trim();
        let scopes: Vec<String> = parts
            .next()
            .map(|scopes| scopes.split_whitespace().map(str::to_owned).collect())
            .filter(|scopes: &Vec<String>| !scopes.is_empty())
            .unwrap_or_else(|| {
                vec![
                    shared::wire::SCOPE_USERS_READ.to_owned(),
                    shared::wire::SCOPE_REVOCATIONS_READ.to_owned(),
                    shared::wire::SCOPE_SESSIONS_EXTENDED.to_owned(),
                ]
            });
        (!id.is_empty() && secret.len() >= 16).then(|| ServiceClient {
            id: id.to_owned(),
            secret: secret.to_owned(),
            scopes,
        })
    }
}

#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `AUTH_ACCESS_TOKEN_TTL` (seconds, default 900).
    pub access_ttl: Duration,
    /// `AUTH_REFRESH_TOKEN_TTL` (seconds, default 30 days).
    pub refresh_ttl: Duration,
    /// `AUTH_REFRESH_REUSE_GRACE` (seconds, default 10): a rotated refresh
    /// token presented again within this window gets the same answer.
    pub refresh_grace: Duration,
    /// `AUTH_SERVICE_TOKEN_TTL` (seconds, default 900).
    pub service_ttl: Duration,
    /// `AUTH_EXTENDED_ACCESS_TOKEN_TTL` (seconds, default 12 hours): the
    /// access-token lifetime of sessions a trusted service opens for
    /// clients that never refresh (kanban's seed-000 sign-ins). Revocation
    /// still ends such tokens at once.
    pub extended_access_ttl: Duration,
    /// `AUTH_FIXED_REFRESH_TOKEN_TTL` (seconds, default 7 days): the
    /// lifetime of a refresh token that is not rotated (seed 003's
    /// sessions), at most `refresh_ttl`.
    pub fixed_refresh_ttl: Duration,
    /// `AUTH_SIGNING_KEY_FILE`: a mounted Ed25519 PKCS#8 PEM key; when unset
    /// keys are created and kept in the database.
    pub signing_key_file: Option<PathBuf>,
}

impl TokenSettings {
    /// The longest any access token lives: how long revocation facts and
    /// retired signing keys must be kept.
    pub fn longest_access_ttl(&self) -> Duration {
        self.access_ttl.max(self.extended_access_ttl)
    }

    /// The lifetime of a session's refresh token.
    pub fn refresh_ttl(&self, fixed: bool) -> Duration {
        if fixed {
            self.fixed_refresh_ttl.min(self.refresh_ttl)
        } else {
            self.refresh_ttl
        }
    }
}

#[derive(Debug, Clone)]
pub struct PasswordSettings {
    /// `AUTH_ARGON2_MEMORY_KIB` (default 7168).
    pub memory_kib: u32,
    /// `AUTH_ARGON2_ITERATIONS` (default 5).
    pub iterations: u32,
    /// `AUTH_ARGON2_PARALLELISM` (default 1).
    pub parallelism: u32,
    /// `AUTH_HASHING_CONCURRENCY`: hashes computed at once (default: cores).
    pub max_concurrent: usize,
    /// `AUTH_HASHING_QUEUE` (default 64): hashes that may wait for a thread;
    /// beyond, logins and registrations answer 503 with `Retry-After`.
    pub queue_len: usize,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            memory_kib: 7_168,
            iterations: 5,
            parallelism: 1,
            max_concurrent: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            queue_len: 64,
        }
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&EnvSource::from_env(ENV_PREFIX))
    }

    pub fn from_source(env: &EnvSource<'_>) -> Result<Self, ConfigError> {
        let password_defaults = PasswordSettings::default();
        Ok(Self {
            bind: env.parse("BIND", SocketAddr::from(([127, 0, 0, 1], 8081)))?,
            public_url: env.http_url("PUBLIC_URL")?,
            audience: env.string("TOKEN_AUDIENCE", "api"),
            database_url: env.database_url("DATABASE_URL", "sqlite://data/auth.db?mode=rwc")?,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 10)?,
            redis_url: env.redis_url("REDIS_URL")?,
            redis_prefix: env.string("REDIS_PREFIX", shared::revocation::DEFAULT_REDIS_PREFIX),
            revocation_staleness: env
                .seconds("REVOCATION_STALENESS", Duration::from_secs(5))?
                .max(shared::revocation::MIN_STALENESS),
            account_cache_entries: env.parse("ACCOUNT_CACHE_ENTRIES", 10_000)?,
            account_cache_ttl: env.seconds("ACCOUNT_CACHE_TTL", Duration::from_secs(60))?,
            tokens: TokenSettings {
                access_ttl: env.seconds("ACCESS_TOKEN_TTL", Duration::from_secs(15 * 60))?,
                refresh_ttl: env
                    .seconds("REFRESH_TOKEN_TTL", Duration::from_secs(30 * 24 * 3600))?,
                refresh_grace: env.seconds("REFRESH_REUSE_GRACE", Duration::from_secs(10))?,
                service_ttl: env.seconds("SERVICE_TOKEN_TTL", Duration::from_secs(15 * 60))?,
                extended_access_ttl: env
                    .seconds("EXTENDED_ACCESS_TOKEN_TTL", Duration::from_secs(12 * 3600))?,
                fixed_refresh_ttl: env
                    .seconds("FIXED_REFRESH_TOKEN_TTL", Duration::from_secs(7 * 24 * 3600))?,
                signing_key_file: env.get("SIGNING_KEY_FILE").map(PathBuf::from),
            },
            passwords: PasswordSettings {
                memory_kib: env.parse("ARGON2_MEMORY_KIB", password_defaults.memory_kib)?,
                iterations: env.parse("ARGON2_ITERATIONS", password_defaults.iterations)?,
                parallelism: env.parse("ARGON2_PARALLELISM", password_defaults.parallelism)?,
                max_concurrent: env
                    .parse("HASHING_CONCURRENCY", password_defaults.max_concurrent)?
                    .max(1),
                queue_len: env.parse("HASHING_QUEUE", password_defaults.queue_len)?.max(1),
            },
            service_clients: env
                .list("SERVICE_CLIENTS")
                .iter()
                .map(|entry| {
                    ServiceClient::parse(entry).ok_or_else(|| ConfigError {
                        name: env.key("SERVICE_CLIENTS"),
                        reason: "each entry is client_id:secret[:scopes], with a secret of 16 or more characters"
                            .to_owned(),
                    })
                })
                .collect::<Result<_, _>>()?,
            cors: shared::http::CorsPolicy::from_settings(
                env.list("CORS_ORIGINS"),
                env.get("DATABASE_URL").is_none(),
            ),
            max_body_bytes: env.parse("MAX_BODY_BYTES", 64 * 1024)?,
            log_json: env.log_json()?,
            metrics: env.switch("METRICS", true)?,
            connections: shared::connections::ConnectionLimits::from_source(env)?,
            shutdown: shared::http::Shutdown::from_source(env)?,
            limits: {
                let defaults = crate::throttle::Limits::default();
                crate::throttle::Limits {
                    login: env.parse("LOGIN_LIMIT", defaults.login)?,
                    login_failure: env.parse("LOGIN_FAILURE_LIMIT", defaults.login_failure)?,
                    register: env.parse("REGISTER_LIMIT", defaults.register)?,
                    refresh: env.parse("REFRESH_LIMIT", defaults.refresh)?,
                    recovery: env.parse("RECOVERY_LIMIT", defaults.recovery)?,
                }
            },
            trusted_proxies: env
                .list("TRUSTED_PROXIES")
                .iter()
                .map(|entry| {
                    entry.parse().map_err(|reason| ConfigError {
                        name: env.key("TRUSTED_PROXIES"),
                        reason,
                    })
                })
                .collect::<Result<_, _>>()?,
            accounts: AccountSettings {
                email_verification_required: match env.string("EMAIL_VERIFICATION", "optional").as_str() {
                    "optional" => false,
                    "required" => true,
                    _ => {
                        return Err(ConfigError {
                            name: env.key("EMAIL_VERIFICATION"),
                            reason: "optional or required".to_owned(),
                        });
                    }
                },
                reset_ttl: env.seconds("PASSWORD_RESET_TTL", Duration::from_secs(30 * 60))?,
                reset_url: env.http_url("PASSWORD_RESET_URL")?,
                verify_url: env.http_url("EMAIL_VERIFY_URL")?,
                audit_retention: match env.parse("AUDIT_RETENTION_DAYS", 365u64)? {
                    0 => None,
                    days => Some(Duration::from_secs(days.saturating_mul(DAY))),
                },
            },
            mail: MailSettings {
                smtp_host: env.get("SMTP_HOST").filter(|host| !host.is_empty()),
                smtp_port: env.get("SMTP_PORT").map(|_| env.parse("SMTP_PORT", 0)).transpose()?,
                smtp_tls: env.parse("SMTP_TLS", SmtpTls::StartTls)?,
                smtp_username: env.get("SMTP_USERNAME"),
                smtp_password: env.get("SMTP_PASSWORD"),
                from: env.string("MAIL_FROM", "Account manager <no-reply@localhost>"),
                outbox: PathBuf::from(env.string("MAIL_OUTBOX", "data/outbox")),
            },
            google: {
                let defaults = GoogleSettings::default();
                let issuers = env.list("GOOGLE_ISSUERS");
                GoogleSettings {
                    client_ids: env.list("GOOGLE_CLIENT_IDS"),
                    jwks_url: env.string("GOOGLE_JWKS_URL", GOOGLE_JWKS_URL),
                    issuers: if issuers.is_empty() {
                        defaults.issuers
                    } else {
                        issuers
                    },
                    jwks_min_refetch: env
                        .seconds("GOOGLE_JWKS_MIN_REFETCH", defaults.jwks_min_refetch)?,
                }
            },
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
        assert!(defaults.log_json && defaults.metrics);
        assert_eq!(defaults.shutdown, shared::http::Shutdown::default());
        let cases: &[(&str, &str)] = &[
            ("AUTH_DATABASE_URL", "mysql://db/auth"),
            ("AUTH_DATABASE_URL", "data/auth.db"),
            ("AUTH_REDIS_URL", "cache:6379"),
            ("AUTH_REDIS_URL", "redis+sentinel://sentinel:26379"),
            ("AUTH_REDIS_URL", "rediss://:secret@redis:6380"),
            ("AUTH_PUBLIC_URL", "boards.example.com"),
            ("AUTH_PASSWORD_RESET_URL", "/reset"),
            ("AUTH_LOG_FORMAT", "yaml"),
            ("AUTH_METRICS", "maybe"),
            ("AUTH_SHUTDOWN_GRACE", "soon"),
            ("AUTH_SERVICE_CLIENTS", "kanban:short-secret"),
            ("AUTH_EMAIL_VERIFICATION", "sometimes"),
        ];
        for (name, value) in cases {
            let err = settings(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, *name, "{name}={value}");
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("setting {name} is invalid: "))
                    && !message.contains('\n'),
                "one line naming the variable: {message}"
            );
        }
        let good = settings(&[
            ("AUTH_DATABASE_URL", "postgres://auth:secret@db:5432/auth"),
            ("AUTH_REDIS_URL", "redis://:secret@redis:6379"),
            ("AUTH_PUBLIC_URL", "https://boards.example.com/"),
            ("AUTH_LOG_FORMAT", "text"),
            ("AUTH_METRICS", "off"),
            ("AUTH_SHUTDOWN_DELAY", "5"),
        ])
        .unwrap();
        assert_eq!(
            good.public_url.as_deref(),
            Some("https://boards.example.com")
        );
        assert!(!good.log_json && !good.metrics);
        assert_eq!(good.shutdown.delay, Duration::from_secs(5));
    }

    #[test]
    fn google_sign_in_is_off_until_client_ids_are_set() {
        let env = EnvSource::from_fn(ENV_PREFIX, |_| None);
        let settings = Settings::from_source(&env).unwrap();
        assert!(!settings.google.enabled());
        assert_eq!(settings.google.jwks_url, GOOGLE_JWKS_URL);
        assert_eq!(settings.google.issuers, GOOGLE_ISSUERS);
        let env = EnvSource::from_fn(ENV_PREFIX, |key| match key {
            "AUTH_GOOGLE_CLIENT_IDS" => Some("web.apps, ios.apps".into()),
            "AUTH_GOOGLE_ISSUERS" => Some("https://accounts.google.com".into()),
            _ => None,
        });
        let settings = Settings::from_source(&env).unwrap();
        assert!(settings.google.enabled());
        assert_eq!(settings.google.client_ids, ["web.apps", "ios.apps"]);
        assert_eq!(settings.google.issuers, ["https://accounts.google.com"]);
    }

    #[test]
    fn service_clients_parse_with_default_and_explicit_scopes() {
        let client = ServiceClient::parse("kanban:0123456789abcdef").unwrap();
        assert_eq!(
            client.scopes,
            vec!["users:read", "revocations:read", "sessions:extended"]
        );
        let client =
            ServiceClient::parse("kanban:0123456789abcdef:users:read users:write").unwrap();
        assert_eq!(client.scopes, vec!["users:read", "users:write"]);
        assert!(ServiceClient::parse("kanban:short").is_none());
        assert!(ServiceClient::parse(":0123456789abcdef").is_none());
        assert!(!format!("{client:?}").contains("0123456789abcdef"));
    }
}
