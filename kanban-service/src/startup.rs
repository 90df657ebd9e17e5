//! Wiring: builds every part from the settings, binds the listener, serves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::EndpointExt;
use poem::listener::TcpAcceptor;
use shared::client::ClientCredentials;
use shared::error::ErrorBody;
use shared::http::Listening;
use shared::revocation::follower::wait_current;
use shared::revocation::http::HttpFeed;
use shared::revocation::redis::RedisFeed;
use shared::revocation::{FeedSource, KeyEvents, spawn_follower};
use shared::{
    Authenticator, JwksKeySource, KeySource, RevocationCheck, RevocationSet, TokenVerifier,
};
use tokio::task::JoinHandle;

use crate::accounts::AccountManager;
use crate::api;
use crate::api::card_budget::CardBudget;
use crate::api::kept_lists::KeptLists;

/// The typical written task list (a board of ~200 cards), to size the keep's index.
const TYPICAL_TASK_LIST_BYTES: u64 = 64 * 1024;
/// The typical written organization list (a few boards with their columns and tags).
const TYPICAL_ORGANIZATION_LIST_BYTES: u64 = 4 * 1024;
use crate::avatars::Avatars;
use crate::boards::Boards;
use crate::config::Settings;
use crate::state::AppState;
use crate::store;

pub struct Application {
    acceptor: TcpAcceptor,
    address: SocketAddr,
    state: Arc<AppState>,
    /// The revocation follower; aborted with the app.
    follower: Follower,
}

struct Follower(JoinHandle<()>);

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long start-up waits for the first revocation snapshot.
const FIRST_SNAPSHOT: Duration = Duration::from_secs(5);

impl Application {
    /// Binds the listener (port 0 picks a free one), opens and migrates the
    /// database and wires token verification against the account manager.
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
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(2))
            .build()
            .context("cannot build the HTTP client")?;
        let keys = Arc::new(JwksKeySource::new(
            settings.jwks_url.clone(),
            http.clone(),
            settings.jwks_min_refetch,
        ));
        let verifier = TokenVerifier::new(
            keys.clone() as Arc<dyn KeySource>,
            &settings.token_issuer,
            &settings.token_audience,
        );
        let credentials = Arc::new(ClientCredentials::new(
            &settings.auth_url,
            settings.auth_client.clone(),
            http.clone(),
        ));
        let set = Arc::new(RevocationSet::new(settings.revocation_staleness));
        let source: Arc<dyn FeedSource> = match &settings.redis_url {
            Some(url) => Arc::new(
                RedisFeed::connect(url, &settings.redis_prefix)
                    .context("invalid KANBAN_REDIS_URL")?,
            ),
            None => Arc::new(HttpFeed::new(
                &settings.auth_url,
                http.clone(),
                credentials.clone(),
            )),
        };
        let follower = Follower(spawn_follower(
            source,
            set.clone(),
            keys as Arc<dyn KeyEvents>,
            None,
        ));
        if !wait_current(&set, FIRST_SNAPSHOT).await {
            tracing::warn!(
                "no revocation snapshot yet: authenticated requests answer 503 until there is one"
            );
        }
        let authenticator = Arc::new(Authenticator::new(
            verifier,
            set as Arc<dyn RevocationCheck>,
            ErrorBody::msg_only(api::error::AUTHENTICATION_FAILED).to_value(),
            ErrorBody::msg_only("Service unavailable: token revocation state cannot be checked")
                .to_value(),
        ));
        let accounts = AccountManager::new(&settings.auth_url, http, credentials);
        let avatars = Avatars::new(&public_url, settings.avatar_url_template.clone());
        let state = Arc::new(AppState {
            public_url,
            avatars,
            boards: Boards::new(db),
            card_budget: CardBudget::new(settings.cards_in_flight),
            task_lists: KeptLists::new(
                settings.task_list_cache_bytes,
                TYPICAL_TASK_LIST_BYTES,
                shared::metrics::TASK_LISTS,
            ),
            organization_lists: KeptLists::new(
                settings.organization_list_cache_bytes,
                TYPICAL_ORGANIZATION_LIST_BYTES,
                shared::metrics::ORGANIZATION_LISTS,
            ),
            account_manager: accounts,
            authenticator,
            settings,
            draining: shared::health::Draining::default(),
        });
        Ok(Self {
            acceptor,
            address,
            state,
            follower,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn public_url(&self) -> &str {
        &self.state.public_url
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
        if let Some(target) = self
            .state
            .settings
            .redis_url
            .as_deref()
            .and_then(|url| shared::revocation::redis::RedisTarget::parse(url).ok())
        {
            tracing::info!(redis = %target.describe(), "revocation feed followed in Redis");
        }
        if self.state.settings.auth_client.is_none() {
            if self.state.settings.redis_url.is_none() {
                tracing::error!(
                    "KANBAN_AUTH_CLIENT_ID/SECRET and KANBAN_REDIS_URL are both unset: revocations cannot be followed, \
                     so every authenticated request answers 503"
                );
            }
            tracing::warn!(
                "KANBAN_AUTH_CLIENT_ID/SECRET are not set: members cannot be added by email"
            );
        }
        match &self.state.settings.cors {
            shared::http::CorsPolicy::AnyOrigin => tracing::warn!(
                "CORS: any origin may call this service from a browser (the development default without KANBAN_DATABASE_URL); list your frontends in KANBAN_CORS_ORIGINS"
            ),
            policy => tracing::info!(origins = %policy.describe(), "CORS"),
        }
        if let Avatars::External(_) = &self.state.avatars {
            tracing::info!(
                "KANBAN_AVATAR_URL_TEMPLATE is set: profile pictures come from that service, which receives the names shown"
            );
        }
        tracing::info!(url = %self.state.public_url, docs = %format!("{}/docs", self.state.public_url), "kanban-service listening");
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
        drop(self.follower);
        result
    }
}
