//! Revocation state shared by every verifying service. The account manager
//! is its only writer; every service reads it on each authenticated request.
//!
//! Three facts revoke an access token: its `jti` was revoked (logout), its
//! session `sid` was revoked (logout, refresh-token reuse), or it was issued
//! before the user's "not before" instant (logout everywhere, password
//! change, disable, ban).

use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::claims::AccessClaims;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RevocationError {
    #[error("the token has been revoked")]
    Revoked,
    /// The revocation state could not be read; the token must not be accepted.
    #[error("the revocation store is unavailable")]
    Unavailable,
}

/// Answers whether a verified access token is still live.
#[async_trait]
pub trait RevocationCheck: Send + Sync {
    async fn check(&self, claims: &AccessClaims) -> Result<(), RevocationError>;

    /// Whether the store can be reached (for readiness probes).
    async fn ping(&self) -> bool;
}

/// Used where no revocation store is configured: only the signature and
/// expiry protect the service. Services say so in a startup warning.
pub struct SignatureOnly;

#[async_trait]
impl RevocationCheck for SignatureOnly {
    async fn check(&self, _claims: &AccessClaims) -> Result<(), RevocationError> {
        Ok(())
    }

    async fn ping(&self) -> bool {
        true
    }
}

/// Revocation state in Redis, under a configurable key prefix.
#[derive(Clone)]
pub struct RedisRevocations {
    connection: ConnectionManager,
    prefix: String,
}

impl RedisRevocations {
    /// Connects lazily: a Redis that is down at start makes requests answer
    /// 503 until it is back, rather than keeping the service from starting.
    pub fn connect(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
        })
    }

    fn jti_key(&self, jti: &str) -> String {
        format!("{}jti:{jti}", self.prefix)
    }

    fn sid_key(&self, sid: &str) -> String {
        format!("{}sid:{sid}", self.prefix)
    }

    fn not_before_key(&self, user_id: &str) -> String {
        format!("{}nbf:{user_id}", self.prefix)
    }

    /// Revokes one access token until it would have expired anyway.
    pub async fn revoke_token(&self, jti: &str, ttl: Duration) -> Result<(), RevocationError> {
        self.set(self.jti_key(jti), "1".to_owned(), ttl).await
    }

    /// Revokes every token of a session.
    pub async fn revoke_session(&self, sid: &str, ttl: Duration) -> Result<(), RevocationError> {
        self.set(self.sid_key(sid), "1".to_owned(), ttl).await
    }

    /// Rejects every token of the user issued before `instant` (unix seconds).
    pub async fn set_not_before(
        &self,
        user_id: &str,
        instant: i64,
        ttl: Duration,
    ) -> Result<(), RevocationError> {
        self.set(self.not_before_key(user_id), instant.to_string(), ttl)
            .await
    }

    async fn set(&self, key: String, value: String, ttl: Duration) -> Result<(), RevocationError> {
        let mut connection = self.connection.clone();
        let seconds = ttl.as_secs().max(1);
        connection
            .set_ex::<_, _, ()>(key, value, seconds)
            .await
            .map_err(unavailable)
    }
}

fn unavailable(err: redis::RedisError) -> RevocationError {
    tracing::error!(error = %err, "redis revocation store unavailable");
    RevocationError::Unavailable
}

#[async_trait]
impl RevocationCheck for RedisRevocations {
    async fn check(&self, claims: &AccessClaims) -> Result<(), RevocationError> {
        let mut connection = self.connection.clone();
        let keys = [
            self.jti_key(&claims.jti),
            self.sid_key(&claims.sid),
            self.not_before_key(&claims.sub),
        ];
        let values: Vec<Option<String>> = connection.mget(&keys).await.map_err(unavailable)?;
        let revoked = |index: usize| values.get(index).is_some_and(Option::is_some);
        if revoked(0) || revoked(1) {
            return Err(RevocationError::Revoked);
        }
        let not_before = values
            .get(2)
            .and_then(|v| v.as_deref())
            .and_then(|v| v.parse::<i64>().ok());
        if not_before.is_some_and(|instant| claims.iat < instant) {
            return Err(RevocationError::Revoked);
        }
        Ok(())
    }

    async fn ping(&self) -> bool {
        let mut connection = self.connection.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .is_ok()
    }
}
