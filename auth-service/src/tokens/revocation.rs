//! Where the account manager revokes: every fact is recorded in SQL first
//! (in the caller's transaction, next to the state change it follows from),
//! then applied to this process's own revocation set at once, then
//! published on the feed: in Redis by the publisher below, and always over
//! HTTP by [`super::feed::SqlFeed`].
//!
//! The publisher runs in every replica. Each round it compares Redis with
//! SQL: a Redis without a generation (never seeded, restarted empty,
//! flushed, failed over) or with another database's (this one was recreated
//! or restored while Redis kept its data) is seeded again from SQL under a
//! new generation; otherwise the facts recorded since the last one Redis
//! holds are appended.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use shared::metrics::REVOCATIONS_PUBLISHED;
use shared::revocation::redis::RedisFeedWriter;
use shared::{Fact, FactKind, RevocationError, RevocationSet};
use tokio::sync::watch;

use crate::store;

/// A little longer than any clock skew the verifiers allow.
pub const MARGIN: Duration = Duration::from_secs(60);
fn fact_kind(kind: FactKind) -> &'static str {
    match kind {
        FactKind::Token => "token",
        FactKind::Session => "session",
        FactKind::NotBefore => "not_before",
        FactKind::KeyRevoked => "key_revoked",
        FactKind::KeysChanged => "keys_changed",
        FactKind::AccountChanged => "account_changed",
    }
}

/// How long a revocation waits for the publisher before answering 503.
const PUBLISH_WAIT: Duration = Duration::from_secs(2);
/// How often the publisher compares Redis with SQL when nothing happens.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);
/// How long the publisher may go without reaching Redis before refresh
/// stops handing out tokens.
const PUBLISHER_SILENCE: Duration = Duration::from_secs(3);

pub struct Revocations {
    db: DatabaseConnection,
    set: Arc<RevocationSet>,
    /// The id of the last fact this process recorded.
    recorded: watch::Sender<i64>,
    /// The id of the last fact known to be in Redis.
    published: watch::Sender<i64>,
    redis: Option<RedisFeedWriter>,
    /// When the publisher last reached Redis (unix milliseconds).
    publisher_ok_ms: AtomicI64,
    /// How long a session or user fact matters: the longest access token.
    fact_ttl: Duration,
    /// Which database the facts come from (its feed generation), so that a
    /// Redis holding another database's feed is seeded again.
    origin: String,
}

fn unix_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl Revocations {
    pub fn new(
        db: DatabaseConnection,
        set: Arc<RevocationSet>,
        redis: Option<RedisFeedWriter>,
        // The longest any access token lives.
        access_ttl: Duration,
        origin: String,
    ) -> Self {
        Self {
            db,
            set,
            recorded: watch::Sender::new(0),
            published: watch::Sender::new(0),
            redis,
            publisher_ok_ms: AtomicI64::new(0),
            fact_ttl: access_ttl + MARGIN,
            origin,
        }
    }

    /// This process's own revocation set (what its verifier checks).
    pub fn set(&self) -> &Arc<RevocationSet> {
        &self.set
    }

    /// Wakes whoever waits for new facts (the publisher, HTTP long polls).
    pub fn watch_recorded(&self) -> watch::Receiver<i64> {
        self.recorded.subscribe()
    }

    fn expiry(&self) -> i64 {
        Utc::now().timestamp() + self.fact_ttl.as_secs() as i64
    }

    /// One access or service token, until it expires.
    pub fn token(&self, jti: &str, expires_at: i64) -> Fact {
        Fact::token(jti, expires_at + MARGIN.as_secs() as i64)
    }

    /// Every token of a session.
    pub fn session(&self, sid: &str) -> Fact {
        Fact::session(sid, self.expiry())
    }

    /// Every token of a user issued before `at`.
    pub fn user_not_before(&self, user_id: i64, at: i64) -> Fact {
        Fact::not_before(&user_id.to_string(), at, self.expiry())
    }

    pub fn key_revoked(&self, kid: &str) -> Fact {
        Fact::key_revoked(kid, self.expiry())
    }

    pub fn keys_changed(&self) -> Fact {
        Fact::keys_changed(self.expiry())
    }

    /// The account changed what it shows (its names, standing, role or
    /// verified address): every replica reads it again. It kills nothing.
    pub fn account_changed(&self, user_id: i64) -> Fact {
        Fact::account_changed(&user_id.to_string(), self.expiry())
    }

    /// Records facts inside the caller's transaction; call [`Self::committed`]
    /// with the answer once it committed.
    pub async fn record(&self, conn: &impl ConnectionTrait, facts: &[Fact]) -> Result<i64, DbErr> {
        store::revocations::record(conn, facts).await
    }

    /// Records facts in a transaction of their own and spreads them.
    pub async fn revoke(&self, facts: &[Fact]) -> Result<(), RevocationOutcome> {
        let txn = self.db.begin().await?;
        let last = self.record(&txn, facts).await?;
        txn.commit().await?;
        self.committed(facts, last).await?;
        Ok(())
    }

    /// After the facts committed: this process refuses their tokens at
    /// once, and with Redis the answer waits until they are published
    /// (503 when Redis cannot be reached; they stay recorded and are
    /// published when it is back).
    pub async fn committed(&self, facts: &[Fact], last_id: i64) -> Result<(), RevocationError> {
        self.set.apply(facts);
        for fact in facts {
            metrics::counter!(REVOCATIONS_PUBLISHED, "kind" => fact_kind(fact.kind)).increment(1);
        }
        self.recorded.send_if_modified(|recorded| {
            let newer = last_id > *recorded;
            if newer {
                *recorded = last_id;
            }
            newer
        });
        if self.redis.is_none() {
            return Ok(());
        }
        let mut published = self.published.subscribe();
        let reached = tokio::time::timeout(
            PUBLISH_WAIT,
            published.wait_for(|published| *published >= last_id),
        )
        .await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(RevocationError::Unavailable),
        }
    }

    /// Fails while revocations could not reach every verifier, so no new
    /// token is handed out that a later revocation could not kill.
    pub fn ensure_publishing(&self) -> Result<(), RevocationError> {
        if self.redis.is_none() {
            return Ok(());
        }
        let silent = unix_ms() - self.publisher_ok_ms.load(Ordering::Acquire);
        if silent <= PUBLISHER_SILENCE.as_millis() as i64 {
            Ok(())
        } else {
            Err(RevocationError::Unavailable)
        }
    }

    /// Publishes to Redis until the task is aborted (no-op without Redis).
    pub async fn publish_forever(self: Arc<Self>) {
        let Some(writer) = self.redis.clone() else {
            return;
        };
        let mut recorded = self.recorded.subscribe();
        loop {
            match self.publish_round(&writer).await {
                Ok(published) => {
                    self.publisher_ok_ms.store(unix_ms(), Ordering::Release);
                    self.published.send_if_modified(|current| {
                        let newer = published > *current;
                        if newer {
                            *current = published;
                        }
                        newer
                    });
                }
                Err(err) => {
                    metrics::counter!(shared::metrics::REDIS_ERRORS, "op" => "publish")
                        .increment(1);
                    tracing::warn!(error = %err, "publishing revocations to Redis failed")
                }
            }
            let _ = tokio::time::timeout(PUBLISH_EVERY, recorded.changed()).await;
        }
    }

    /// One comparison of Redis with SQL; answers the last id in Redis.
    async fn publish_round(&self, writer: &RedisFeedWriter) -> anyhow::Result<i64> {
        let state = writer.state().await?;
        let now = Utc::now().timestamp();
        let ours = state
            .generation
            .as_deref()
            .is_some_and(|generation| RedisFeedWriter::is_from(generation, &self.origin));
        if !ours {
            let last = store::revocations::last_id(&self.db).await?;
            let facts: Vec<Fact> = store::revocations::after(&self.db, 0, now)
                .await?
                .into_iter()
                .filter(|(id, _)| *id <= last)
                .map(|(_, fact)| fact)
                .collect();
            writer.reseed(&self.origin, &facts, last).await?;
            tracing::info!(
                facts = facts.len(),
                "revocation feed seeded in Redis from the database"
            );
            return Ok(last);
        }
        let rows = store::revocations::after(&self.db, state.published, now).await?;
        let Some((last, _)) = rows.last() else {
            return Ok(state.published);
        };
        let last = *last;
        let facts: Vec<Fact> = rows.into_iter().map(|(_, fact)| fact).collect();
        writer.append(&facts, last).await?;
        Ok(last)
    }

    /// Forgets facts whose tokens have all expired.
    pub async fn purge_expired(&self) -> Result<u64, DbErr> {
        store::revocations::purge_expired(&self.db, Utc::now().timestamp()).await
    }
}

/// Why a revocation did not complete: it could not be recorded, or it was
/// recorded but could not be spread yet.
#[derive(Debug, thiserror::Error)]
pub enum RevocationOutcome {
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error(transparent)]
    Spread(#[from] RevocationError),
}
