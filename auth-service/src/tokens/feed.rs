//! The revocation feed read straight from SQL: what the HTTP feed route
//! answers, and what this service's own verifier follows when there is no
//! Redis. A long poll waits for a fact recorded by this process, and looks
//! at the table every [`POLL_EVERY`] for facts recorded by other replicas.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{DatabaseConnection, DbErr};
use shared::revocation::http::LONG_POLL;
use shared::revocation::{FeedBatch, FeedCursor, FeedError, FeedSource};
use tokio::sync::watch;

use crate::store;

const POLL_EVERY: Duration = Duration::from_secs(1);
/// The longest long poll a client may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(25);

pub struct SqlFeed {
    db: DatabaseConnection,
    /// One life of the facts table (a database created anew gets another).
    generation: String,
    recorded: watch::Receiver<i64>,
}

impl SqlFeed {
    pub fn new(db: DatabaseConnection, generation: String, recorded: watch::Receiver<i64>) -> Self {
        Self {
            db,
            generation,
            recorded,
        }
    }

    /// A snapshot when the caller has no cursor of this generation;
    /// otherwise the facts after `after`, waiting up to `wait` for one.
    pub async fn page(
        &self,
        generation: Option<&str>,
        after: Option<i64>,
        wait: Duration,
    ) -> Result<FeedBatch, DbErr> {
        let now = Utc::now().timestamp();
        let (Some(after), true) = (after, generation == Some(self.generation.as_str())) else {
            return self.snapshot(now).await;
        };
        let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
        let mut recorded = self.recorded.clone();
        recorded.mark_unchanged();
        loop {
            let rows = store::revocations::after(&self.db, after, Utc::now().timestamp()).await?;
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if !rows.is_empty() || remaining.is_zero() {
                let position = rows.last().map_or(after, |(id, _)| *id);
                return Ok(self.batch(position, false, rows));
            }
            let _ = tokio::time::timeout(remaining.min(POLL_EVERY), recorded.changed()).await;
        }
    }

    async fn snapshot(&self, now: i64) -> Result<FeedBatch, DbErr> {
        let last = store::revocations::last_id(&self.db).await?;
        let rows = store::revocations::after(&self.db, 0, now)
            .await?
            .into_iter()
            .filter(|(id, _)| *id <= last)
            .collect();
        Ok(self.batch(last, true, rows))
    }

    fn batch(&self, position: i64, reset: bool, rows: Vec<(i64, shared::Fact)>) -> FeedBatch {
        FeedBatch {
            cursor: FeedCursor {
                generation: self.generation.clone(),
                position: position.to_string(),
            },
            reset,
            facts: rows.into_iter().map(|(_, fact)| fact).collect(),
        }
    }
}

#[async_trait]
impl FeedSource for SqlFeed {
    async fn next(&self, cursor: Option<&FeedCursor>) -> Result<FeedBatch, FeedError> {
        let (generation, after) = match cursor {
            Some(cursor) => (
                Some(cursor.generation.as_str()),
                cursor.position.parse().ok(),
            ),
            None => (None, None),
        };
        self.page(generation, after, LONG_POLL)
            .await
            .map_err(|err| FeedError::Unreachable(err.to_string()))
    }
}
