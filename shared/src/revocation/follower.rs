//! Keeps a [`RevocationSet`] current from a feed: a snapshot first, then
//! every new fact as the feed delivers it (a blocking read or a long poll,
//! so each answer is also a heartbeat).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;

use super::{Fact, FactKind, RevocationSet};
use crate::metrics as metrics_names;

/// Where the follower is in a feed. `generation` names one life of the
/// feed's store: when it changes, the store lost data and a new snapshot is
/// needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedCursor {
    pub generation: String,
    pub position: String,
}

/// What one read of the feed brought.
#[derive(Debug, Clone)]
pub struct FeedBatch {
    /// Where the next read starts.
    pub cursor: FeedCursor,
    /// True when `facts` is the whole live set (a snapshot), not an addition.
    pub reset: bool,
    pub facts: Vec<Fact>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The feed could not be read; what is known stays valid until the
    /// staleness bound.
    #[error("revocation feed unreachable: {0}")]
    Unreachable(String),
    /// The feed's store lost data (restarted empty, flushed, failed over):
    /// nothing known can be trusted until a new snapshot.
    #[error("revocation feed lost its data")]
    Lost,
}

/// A revocation feed. `next(None)` answers a snapshot; `next(Some(cursor))`
/// waits (a bounded time) for facts after the cursor and answers them,
/// possibly none.
#[async_trait]
pub trait FeedSource: Send + Sync {
    async fn next(&self, cursor: Option<&FeedCursor>) -> Result<FeedBatch, FeedError>;
}

/// What a key source does when the feed says the signing keys changed.
#[async_trait]
pub trait KeyEvents: Send + Sync {
    /// Keys were added or retired: load them again.
    async fn keys_changed(&self);
    /// This key must never verify anything again.
    async fn key_revoked(&self, kid: &str, until: i64);
}

/// What a keeper of accounts (the account manager's copies for `me`) does
/// when the feed says one changed.
pub trait AccountEvents: Send + Sync {
    /// This account (a user id) changed: read it again next time.
    fn account_changed(&self, user_id: &str);
    /// The feed started over, and changes may have gone unheard: read
    /// every account again.
    fn all_changed(&self);
}

/// Longest pause between two tries of an unreachable feed.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const PRUNE_EVERY: Duration = Duration::from_secs(30);

/// Follows `source` into `set` until the task is aborted, telling `keys`
/// of key facts and `accounts` (if any) of account facts.
pub fn spawn_follower(
    source: Arc<dyn FeedSource>,
    set: Arc<RevocationSet>,
    keys: Arc<dyn KeyEvents>,
    accounts: Option<Arc<dyn AccountEvents>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut cursor: Option<FeedCursor> = None;
        let mut backoff = MIN_BACKOFF;
        let mut last_prune = tokio::time::Instant::now();
        loop {
            match source.next(cursor.as_ref()).await {
                Ok(batch) => {
                    let snapshot = batch.reset || cursor.is_none();
                    if snapshot {
                        set.replace(&batch.facts);
                        keys.keys_changed().await;
                        metrics::counter!(metrics_names::REVOCATION_SNAPSHOTS).increment(1);
                    } else {
                        set.apply(&batch.facts);
                        set.heard();
                        metrics::counter!(metrics_names::REVOCATIONS_APPLIED)
                            .increment(batch.facts.len() as u64);
                    }
                    metrics::gauge!(metrics_names::REVOCATION_FEED_HEARD).set(chrono_now() as f64);
                    metrics::gauge!(metrics_names::REVOCATION_FACTS_LIVE).set(set.len() as f64);
                    tell_keys(keys.as_ref(), &batch.facts, snapshot).await;
                    if let Some(accounts) = &accounts {
                        tell_accounts(accounts.as_ref(), &batch.facts, snapshot);
                    }
                    if snapshot {
                        tracing::info!(facts = set.len(), "revocation snapshot loaded");
                    }
                    cursor = Some(batch.cursor);
                    backoff = MIN_BACKOFF;
                }
                Err(err) => {
                    let kind = if matches!(err, FeedError::Lost) {
                        set.lost();
                        cursor = None;
                        "lost"
                    } else {
                        "unreachable"
                    };
                    metrics::counter!(metrics_names::REVOCATION_FEED_ERRORS, "kind" => kind)
                        .increment(1);
                    tracing::warn!(error = %err, "revocation feed read failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
            if last_prune.elapsed() >= PRUNE_EVERY {
                set.prune(chrono_now());
                last_prune = tokio::time::Instant::now();
            }
        }
    })
}

async fn tell_keys(keys: &dyn KeyEvents, facts: &[Fact], snapshot: bool) {
    let mut changed = false;
    for fact in facts {
        match fact.kind {
            FactKind::KeyRevoked => keys.key_revoked(&fact.subject, fact.expires_at).await,
            FactKind::KeysChanged => changed = true,
            _ => {}
        }
    }
    // A snapshot already reloaded the keys.
    if changed && !snapshot {
        keys.keys_changed().await;
    }
}

fn tell_accounts(accounts: &dyn AccountEvents, facts: &[Fact], snapshot: bool) {
    if snapshot {
        accounts.all_changed();
        return;
    }
    for fact in facts {
        if fact.kind == FactKind::AccountChanged {
            accounts.account_changed(&fact.subject);
        }
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// Waits until `set` is current, at most `timeout`; true when it is.
pub async fn wait_current(set: &RevocationSet, timeout: Duration) -> bool {
    use super::RevocationCheck;
    let deadline = tokio::time::Instant::now() + timeout;
    while !set.is_current() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}
