//! Wiring: builds every part from the settings, binds the listener, serves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::EndpointExt;
use poem::listener::TcpAcceptor;
use sea_orm::DatabaseConnection;
use shared::http::Listening;
use shared::revocation::follower::wait_current;
use shared::revocation::redis::{self, RedisFeed, RedisFeedWriter};
use shared::revocation::{AccountEvents, FeedSource, KeyEvents, spawn_follower};
use shared::{
    Authenticator, JwksKeySource, KeyKind, KeySource, RevocationCheck, RevocationSet, TokenVerifier,
};
use tokio::task::JoinHandle;

use crate::accounts::google::GoogleVerifier;
use crate::accounts::kept::KeptAccounts;
use crate::accounts::passwords::PasswordHasher;
use crate::accounts::{AccountPolicy, EmailVerification};
use crate::api;
use crate::audit::AuditLog;
use crate::config::{GoogleSettings, Settings};
use crate::mail::Mailer;
use crate::state::AppState;
use crate::store;
use crate::throttle::Throttle;
use crate::tokens::feed::SqlFeed;
use crate::tokens::keys::KeyRing;
use crate::tokens::refresh::RotationSecret;
use crate::tokens::revocation::{MARGIN, Revocations};
use crate::tokens::sessions::Sessions;
use crate::tokens::{AccessLifetimes, TokenIssuer, random_bytes};

pub struct Application {
    acceptor: TcpAcceptor,
    address: SocketAddr,
    state: Arc<AppState>,
    /// The revocation follower and publisher; aborted with the app.
    background: Background,
}

/// Tasks that live as long as the app.
struct Background(Vec<JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// How often each replica re-reads the signing keys (rotations made elsewhere).
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(15);
/// How often Google's keys are fetched again when nothing asked sooner (so
/// that a key Google dropped stops verifying).
const GOOGLE_KEYS_INTERVAL: Duration = Duration::from_secs(3600);
/// How often revocations of tokens that have expired anyway are forgotten.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);
/// How long start-up waits for the first revocation snapshot.
const FIRST_SNAPSHOT: Duration = Duration::from_secs(5);

/// The account rules of the settings; links default to this service.
fn account_policy(settings: &Settings, public_url: &str) -> AccountPolicy {
    let accounts = &settings.accounts;
    AccountPolicy {
        verification: if accounts.email_verification_required {
            EmailVerification::Required
        } else {
            EmailVerification::Optional
        },
        reset_ttl: accounts.reset_ttl,
        reset_url: accounts
            .reset_url
            .clone()
            .unwrap_or_else(|| format!("{public_url}/reset-password")),
        verify_url: accounts
            .verify_url
            .clone()
            .unwrap_or_else(|| format!("{public_url}/api/v1/auth/verify-email")),
    }
}

/// Google sign-in, when client ids are configured: Google's RSA keys,
/// fetched from its JWKS on first use and cached.
fn google_verifier(settings: &GoogleSettings) -> anyhow::Result<Option<GoogleVerifier>> {
    if !settings.enabled() {
        return Ok(None);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(2))
        .build()
        .context("cannot build the HTTP client")?;
    let keys = JwksKeySource::new(settings.jwks_url.clone(), http, settings.jwks_min_refetch)
        .keeping(KeyKind::Rsa);
    Ok(Some(GoogleVerifier::new(
        Arc::new(keys),
        &settings.client_ids,
        &settings.issuers,
    )))
}

/// The secret behind refresh-token successors, shared by every replica.
async fn rotation_secret(db: &DatabaseConnection) -> anyhow::Result<RotationSecret> {
    let fresh = STANDARD.encode(random_bytes::<32>()?);
    let stored =
        store::keys::secret_or_insert(db, "refresh-rotation", fresh, chrono::Utc::now()).await?;
    Ok(RotationSecret::new(
        STANDARD
            .decode(stored)
            .context("stored rotation secret is not base64")?,
    ))
}

impl Application {
    /// Binds the listener (port 0 picks a free one), opens and migrates the
    /// database, loads the signing keys and wires the app.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if settings.metrics {
            // Before anything records (the first JWKS fetch, the first
            // snapshot): the process's one recorder.
            shared::metrics::handle();
        }
        let Listening {
            acceptor,
            address,
            public_url,
        } = shared::http::listen(settings.bind, settings.public_url.as_deref())
            .await
            .context("cannot bind")?;

        let db = store::connect(&settings.database_url, settings.database_max_connections)
            .await
            .context("cannot open the database")?;
        let tokens = &settings.tokens;
        let keys = Arc::new(match &tokens.signing_key_file {
            Some(path) => {
                let pem = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                KeyRing::from_pem(&pem)?
            }
            None => {
                KeyRing::from_database(
                    db.clone(),
                    tokens.longest_access_ttl() + Duration::from_secs(60),
                )
                .await?
            }
        });
        let fact_ttl = tokens.longest_access_ttl() + MARGIN;
        let set = Arc::new(RevocationSet::new(settings.revocation_staleness));
        // The one Redis connection manager of the process (the feed's
        // follower keeps a connection of its own for its blocking reads).
        let redis_connection = match &settings.redis_url {
            Some(url) => Some(
                redis::connection(url, Duration::from_secs(2)).context("invalid AUTH_REDIS_URL")?,
            ),
            None => None,
        };
        let writer = redis_connection.clone().map(|connection| {
            RedisFeedWriter::new(connection, &settings.redis_prefix, fact_ttl + MARGIN)
        });
        let audit = AuditLog::new(settings.accounts.audit_retention);
        let throttle = match redis_connection {
            Some(connection) => {
                Throttle::in_redis(settings.limits.clone(), connection, &settings.redis_prefix)
            }
            None => Throttle::in_memory(settings.limits.clone()),
        };
        let generation = store::keys::secret_or_insert(
            &db,
            "revocation-feed-generation",
            uuid::Uuid::new_v4().simple().to_string(),
            chrono::Utc::now(),
        )
        .await?;
        let revocations = Arc::new(Revocations::new(
            db.clone(),
            set.clone(),
            writer,
            tokens.longest_access_ttl(),
            generation.clone(),
        ));
        let feed = Arc::new(SqlFeed::new(
            db.clone(),
            generation,
            revocations.watch_recorded(),
        ));
        let source: Arc<dyn FeedSource> = match &settings.redis_url {
            Some(url) => Arc::new(
                RedisFeed::connect(url, &settings.redis_prefix)
                    .context("invalid AUTH_REDIS_URL")?,
            ),
            None => feed.clone(),
        };
        let kept_accounts = Arc::new(KeptAccounts::new(
            settings.account_cache_entries,
            settings.account_cache_ttl,
        ));
        let background = Background(vec![
            tokio::spawn(revocations.clone().publish_forever()),
            spawn_follower(
                source,
                set.clone(),
                keys.clone() as Arc<dyn KeyEvents>,
                Some(kept_accounts.clone() as Arc<dyn AccountEvents>),
            ),
        ]);
        if !wait_current(&set, FIRST_SNAPSHOT).await {
            tracing::warn!(
                "no revocation snapshot yet: protected routes answer 503 until there is one"
            );
        }
        let issuer = Arc::new(TokenIssuer::new(
            keys.clone(),
            public_url.clone(),
            settings.audience.clone(),
            AccessLifetimes {
                standard: tokens.access_ttl,
                extended: tokens.extended_access_ttl,
            },
        ));
        let verifier = TokenVerifier::new(
            keys.clone() as Arc<dyn KeySource>,
            &public_url,
            &settings.audience,
        );
        let authenticator = Arc::new(Authenticator::new(
            verifier,
            set as Arc<dyn RevocationCheck>,
            api::error::unauthorized_body().to_value(),
            api::error::unavailable_body().to_value(),
        ));
        let sessions = Sessions::new(
            db.clone(),
            issuer.clone(),
            rotation_secret(&db).await?,
            revocations.clone(),
            tokens.clone(),
        );
        let passwords = PasswordHasher::new(&settings.passwords).await?;
        let mailer = Mailer::new(&settings.mail)?;
        let policy = account_policy(&settings, &public_url);
        let google = google_verifier(&settings.google)?;
        let state = Arc::new(AppState {
            settings,
            public_url,
            db,
            passwords,
            keys,
            issuer,
            sessions,
            revocations,
            feed,
            authenticator,
            mailer,
            policy,
            throttle,
            audit,
            google,
            kept_accounts,
            draining: shared::health::Draining::default(),
        });
        Ok(Self {
            acceptor,
            address,
            state,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully (see
    /// [`shared::http::serve`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shared::telemetry::shutdown_signal()).await
    }

    /// Serves until `stop` completes, then shuts down gracefully.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let background = tokio::spawn(maintain(self.state.clone()));
        match &self.state.settings.redis_url {
            None => tracing::info!(
                "AUTH_REDIS_URL is not set: revocations are published over HTTP only (GET /api/v1/revocations/feed)"
            ),
            Some(url) => match shared::revocation::redis::RedisTarget::parse(url) {
                Ok(target) => {
                    tracing::info!(redis = %target.describe(), "revocation feed and rate-limit counters in Redis")
                }
                Err(reason) => tracing::warn!(%reason, "AUTH_REDIS_URL"),
            },
        }
        tracing::info!(
            destination = %self.state.mailer.destination(),
            "mail (password resets, email verification)"
        );
        match &self.state.settings.cors {
            shared::http::CorsPolicy::AnyOrigin => tracing::warn!(
                "CORS: any origin may call this service from a browser (the development default without AUTH_DATABASE_URL); list your frontends in AUTH_CORS_ORIGINS"
            ),
            policy => tracing::info!(origins = %policy.describe(), "CORS"),
        }
        match &self.state.settings.google {
            google if google.enabled() => tracing::info!(
                clients = google.client_ids.len(),
                jwks = %google.jwks_url,
                "Google sign-in is on"
            ),
            _ => tracing::info!(
                "Google sign-in is off (AUTH_GOOGLE_CLIENT_IDS is not set): its route answers 501"
            ),
        }
        tracing::info!(url = %self.state.public_url, docs = %format!("{}/docs", self.state.public_url), "auth-service listening");
        let app = api::app(self.state.clone()).boxed();
        let acceptor = shared::connections::GuardedAcceptor::new(
            self.acceptor,
            self.state.settings.connections,
        );
        let result = shared::http::serve(
            acceptor,
            app,
            stop,
            self.state.draining.clone(),
            self.state.settings.shutdown,
        )
        .await;
        background.abort();
        drop(self.background);
        result
    }
}

/// Periodic upkeep: pick up keys rotated elsewhere, forget expired revocations.
async fn maintain(state: Arc<AppState>) {
    let mut reload = tokio::time::interval(KEY_RELOAD_INTERVAL);
    let mut purge = tokio::time::interval(PURGE_INTERVAL);
    let mut forget = tokio::time::interval(Duration::from_secs(60));
    let mut google_keys = tokio::time::interval(GOOGLE_KEYS_INTERVAL);
    reload.tick().await;
    purge.tick().await;
    forget.tick().await;
    google_keys.tick().await;
    loop {
        tokio::select! {
            _ = reload.tick() => {
                if let Err(err) = state.keys.reload().await {
                    tracing::warn!(error = %err, "signing key reload failed");
                }
            }
            _ = forget.tick() => state.throttle.forget_stale(),
            _ = google_keys.tick() => {
                if let Some(google) = &state.google {
                    google.refresh_keys().await;
                }
            }
            _ = purge.tick() => {
                if let Err(err) = state.revocations.purge_expired().await {
                    tracing::warn!(error = %err, "purging expired revocations failed");
                }
                if let Err(err) = state.audit.purge(&state.db).await {
                    tracing::warn!(error = %err, "purging old audit events failed");
                }
            }
        }
    }
}
