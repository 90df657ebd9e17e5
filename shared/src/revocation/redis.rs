//! The revocation feed in Redis: a stream of facts, a generation key, and
//! the highest SQL fact id already published.
//!
//! Layout under the prefix (`auth:revoked:` by default), whose keys all
//! carry the prefix as a hash tag (`{auth:revoked:}feed`, …; a prefix that
//! already has a `{…}` tag is used as it is) so that they share one hash
//! slot in a Redis Cluster, where the writer changes them together:
//! - `feed`: a stream; each entry is one [`Fact`] (`k` kind, `s` subject,
//!   `a` not-before instant, `e` expiry), trimmed to the facts that can
//!   still matter.
//! - `generation`: a random value the account manager writes when it seeds
//!   the stream from SQL. A verifier that finds it missing or changed knows
//!   Redis lost data (restart without persistence, `FLUSHALL`, failover to
//!   an empty replica) and stops trusting what it knows until it has read a
//!   new snapshot.
//! - `published`: the id of the last SQL fact in the stream.
//!
//! The account manager writes with [`RedisFeedWriter`]; verifiers read with
//! [`RedisFeed`] on a connection of their own, since a blocking read holds
//! its connection for up to [`BLOCK`]. Both go through a
//! [`RedisConnection`], so one server, Sentinel and Cluster work alike.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::{RedisError, Value};

pub use super::topology::{RedisConnection, RedisTarget};
use super::{Fact, FactKind, FeedBatch, FeedCursor, FeedError, FeedSource};

/// How long one blocking read waits for new facts; each answer, even an
/// empty one, tells the verifier the feed is alive.
pub const BLOCK: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone)]
struct Keys {
    feed: String,
    generation: String,
    published: String,
}

/// The hash tag Redis Cluster reads in `key`: what lies between the first
/// `{` and the first `}` after it, when that is not empty.
fn hash_tag(key: &str) -> Option<&str> {
    let (_, after) = key.split_once('{')?;
    let (tag, _) = after.split_once('}')?;
    (!tag.is_empty()).then_some(tag)
}

/// The beginning of every feed key: `prefix` if it carries a hash tag,
/// else `{prefix}`, so the keys share one slot whatever the prefix.
fn slot_prefix(prefix: &str) -> String {
    if hash_tag(prefix).is_some() {
        return prefix.to_owned();
    }
    let wrapped = format!("{{{prefix}}}");
    match hash_tag(&wrapped) {
        Some(_) => wrapped,
        // An empty prefix, or one starting with `}`.
        None => format!("{{revocation-feed}}{prefix}"),
    }
}

impl Keys {
    fn new(prefix: &str) -> Self {
        let prefix = slot_prefix(prefix);
        Self {
            feed: format!("{prefix}feed"),
            generation: format!("{prefix}generation"),
            published: format!("{prefix}published"),
        }
    }
}

/// The process's handle on the Redis that `url` names (one server,
/// Sentinel or Cluster), reconnecting by itself; `response_timeout` must
/// exceed any blocking read made on it.
pub fn connection(url: &str, response_timeout: Duration) -> Result<RedisConnection, RedisError> {
    RedisConnection::open(url, response_timeout)
}

fn fields(fact: &Fact) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("k", fact.kind.as_str().to_owned()),
        ("s", fact.subject.clone()),
        ("e", fact.expires_at.to_string()),
    ];
    if let Some(at) = fact.at {
        fields.push(("a", at.to_string()));
    }
    fields
}

fn text(map: &HashMap<String, Value>, field: &str) -> Option<String> {
    map.get(field)
        .and_then(|value| redis::from_redis_value_ref::<String>(value).ok())
}

fn decode(entry: &StreamId) -> Option<Fact> {
    let kind = FactKind::parse(&text(&entry.map, "k")?)?;
    Some(Fact {
        kind,
        subject: text(&entry.map, "s").unwrap_or_default(),
        at: text(&entry.map, "a").and_then(|at| at.parse().ok()),
        expires_at: text(&entry.map, "e")?.parse().ok()?,
    })
}

fn unreachable(err: RedisError) -> FeedError {
    metrics::counter!(crate::metrics::REDIS_ERRORS, "op" => "feed_read").increment(1);
    FeedError::Unreachable(err.to_string())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// A verifier's reader of the feed.
pub struct RedisFeed {
    connection: RedisConnection,
    keys: Keys,
    /// The connection's epoch when the last snapshot was read: a Sentinel
    /// failover since then means reading the new master from a snapshot,
    /// not from a position in another server's stream.
    epoch: AtomicU64,
}

impl RedisFeed {
    pub fn connect(url: &str, prefix: &str) -> Result<Self, RedisError> {
        Ok(Self {
            connection: connection(url, BLOCK + Duration::from_secs(2))?,
            keys: Keys::new(prefix),
            epoch: AtomicU64::new(0),
        })
    }

    async fn snapshot(&self) -> Result<FeedBatch, FeedError> {
        self.epoch.store(self.connection.epoch(), Ordering::Release);
        let mut connection = self.connection.clone();
        let (generation, range): (Option<String>, StreamRangeReply) = redis::pipe()
            .atomic()
            .get(&self.keys.generation)
            .cmd("XRANGE")
            .arg(&self.keys.feed)
            .arg("-")
            .arg("+")
            .query_async(&mut connection)
            .await
            .map_err(unreachable)?;
        let generation = generation.ok_or(FeedError::Lost)?;
        let now = unix_now();
        let position = range
            .ids
            .last()
            .map(|entry| entry.id.clone())
            .unwrap_or_else(|| "0-0".to_owned());
        let facts = range
            .ids
            .iter()
            .filter_map(decode)
            .filter(|fact| fact.expires_at > now)
            .collect();
        Ok(FeedBatch {
            cursor: FeedCursor {
                generation,
                position,
            },
            reset: true,
            facts,
        })
    }

    async fn after(&self, cursor: &FeedCursor) -> Result<FeedBatch, FeedError> {
        if self.connection.epoch() != self.epoch.load(Ordering::Acquire) {
            return self.snapshot().await;
        }
        let mut connection = self.connection.clone();
        let read: Option<StreamReadReply> = redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(&self.keys.feed)
            .arg(&cursor.position)
            .query_async(&mut connection)
            .await
            .map_err(unreachable)?;
        // Read after the facts: a generation that changed while this read
        // waited means they belong to another life of the store.
        let generation: Option<String> = redis::cmd("GET")
            .arg(&self.keys.generation)
            .query_async(&mut connection)
            .await
            .map_err(unreachable)?;
        if generation.as_deref() != Some(cursor.generation.as_str()) {
            return Err(FeedError::Lost);
        }
        let entries: Vec<StreamId> = read
            .map(|reply| reply.keys.into_iter().flat_map(|key| key.ids).collect())
            .unwrap_or_default();
        let position = entries
            .last()
            .map(|entry| entry.id.clone())
            .unwrap_or_else(|| cursor.position.clone());
        Ok(FeedBatch {
            cursor: FeedCursor {
                generation: cursor.generation.clone(),
                position,
            },
            reset: false,
            facts: entries.iter().filter_map(decode).collect(),
        })
    }
}

#[async_trait]
impl FeedSource for RedisFeed {
    async fn next(&self, cursor: Option<&FeedCursor>) -> Result<FeedBatch, FeedError> {
        match cursor {
            None => self.snapshot().await,
            Some(cursor) => self.after(cursor).await,
        }
    }
}

/// The account manager's writer of the feed.
#[derive(Clone)]
pub struct RedisFeedWriter {
    connection: RedisConnection,
    keys: Keys,
    /// Entries older than this are trimmed: every fact has expired by then.
    retain: Duration,
}

/// What the feed in Redis holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedState {
    /// `None` when Redis has no feed (never seeded, or lost its data).
    pub generation: Option<String>,
    /// The last SQL fact id in the stream.
    pub published: i64,
}

impl RedisFeedWriter {
    pub fn new(connection: RedisConnection, prefix: &str, retain: Duration) -> Self {
        Self {
            connection,
            keys: Keys::new(prefix),
            retain,
        }
    }

    pub async fn state(&self) -> Result<PublishedState, RedisError> {
        let mut connection = self.connection.clone();
        let (generation, published): (Option<String>, Option<i64>) = redis::pipe()
            .get(&self.keys.generation)
            .get(&self.keys.published)
            .query_async(&mut connection)
            .await?;
        Ok(PublishedState {
            generation,
            published: published.unwrap_or(0),
        })
    }

    /// Whether a generation was seeded from the database named `origin`; a
    /// feed seeded from another database (recreated, or restored from a
    /// backup, while Redis kept its data) must be seeded again.
    pub fn is_from(generation: &str, origin: &str) -> bool {
        generation
            .split_once('.')
            .is_some_and(|(from, _)| from == origin)
    }

    /// Replaces the whole feed with `facts` under a new generation, in one
    /// transaction, and answers the generation. The generation starts with
    /// `origin` (which database's facts these are: see [`is_from`]).
    pub async fn reseed(
        &self,
        origin: &str,
        facts: &[Fact],
        published: i64,
    ) -> Result<String, RedisError> {
        let generation = format!("{origin}.{}", uuid::Uuid::new_v4().simple());
        let mut pipe = redis::pipe();
        pipe.atomic().del(&self.keys.feed).ignore();
        for fact in facts {
            pipe.xadd(&self.keys.feed, "*", &fields(fact)).ignore();
        }
        pipe.set(&self.keys.published, published)
            .ignore()
            .set(&self.keys.generation, &generation)
            .ignore();
        let mut connection = self.connection.clone();
        pipe.query_async::<()>(&mut connection).await?;
        Ok(generation)
    }

    /// Appends facts and records the last SQL id they carry, trimming what
    /// can no longer matter, in one transaction.
    pub async fn append(&self, facts: &[Fact], published: i64) -> Result<(), RedisError> {
        let oldest = std::time::SystemTime::now()
            .checked_sub(self.retain)
            .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|since| since.as_millis() as u64)
            .unwrap_or(0);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for fact in facts {
            let mut command = redis::cmd("XADD");
            command
                .arg(&self.keys.feed)
                .arg("MINID")
                .arg("~")
                .arg(oldest)
                .arg("*");
            for (field, value) in fields(fact) {
                command.arg(field).arg(value);
            }
            pipe.add_command(command).ignore();
        }
        pipe.set(&self.keys.published, published).ignore();
        let mut connection = self.connection.clone();
        pipe.query_async::<()>(&mut connection).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::cluster_routing::Slot;

    #[test]
    fn the_feed_keys_share_one_cluster_slot_whatever_the_prefix() {
        for prefix in [
            "auth:revoked:",
            "test:1f2e:",
            "",
            "}odd",
            "{",
            "app{tenant}:",
            "a}b{",
        ] {
            let keys = Keys::new(prefix);
            let slot = Slot::for_key(&keys.feed);
            assert_eq!(Slot::for_key(&keys.generation), slot, "{prefix:?}");
            assert_eq!(Slot::for_key(&keys.published), slot, "{prefix:?}");
            assert!(keys.feed.contains(prefix), "{prefix:?}: {}", keys.feed);
        }
        assert_eq!(Keys::new("auth:revoked:").feed, "{auth:revoked:}feed");
        assert_eq!(
            Keys::new("app{tenant}:").generation,
            "app{tenant}:generation"
        );
        // Different prefixes are spread over the slots.
        assert_ne!(
            Slot::for_key(Keys::new("one:").feed),
            Slot::for_key(Keys::new("two:").feed)
        );
    }

    #[test]
    fn facts_round_trip_through_stream_fields() {
        for fact in [
            Fact::token("j", 10),
            Fact::session("s", 11),
            Fact::not_before("7", 5, 12),
            Fact::key_revoked("kid", 13),
            Fact::keys_changed(14),
        ] {
            let map = fields(&fact)
                .into_iter()
                .map(|(field, value)| (field.to_owned(), Value::BulkString(value.into_bytes())))
                .collect();
            let entry = StreamId {
                id: "1-0".into(),
                map,
                ..Default::default()
            };
            assert_eq!(decode(&entry), Some(fact));
        }
    }
}
