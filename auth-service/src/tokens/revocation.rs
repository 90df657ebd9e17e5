//! Where the account manager writes revocation state: Redis when
//! configured (every verifying service reads it there), otherwise the SQL
//! database (embedded mode, read by this service only).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use shared::{AccessClaims, RedisRevocations, RevocationCheck, RevocationError};

use crate::store;

pub enum RevocationStore {
    Redis {
        redis: RedisRevocations,
        access_ttl: Duration,
    },
    Sql(DatabaseConnection),
}

/// A little longer than any clock skew the verifiers allow.
const MARGIN: Duration = Duration::from_secs(60);

fn db_unavailable(err: sea_orm::DbErr) -> RevocationError {
    tracing::error!(error = %err, "revocation state unreadable from the database");
    RevocationError::Unavailable
}

impl RevocationStore {
    /// Revokes one access token (`jti`) that expires at `expires_at`.
    pub async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<(), RevocationError> {
        match self {
            Self::Redis { redis, .. } => {
                let left = (expires_at - Utc::now().timestamp()).max(0) as u64;
                redis
                    .revoke_token(jti, Duration::from_secs(left) + MARGIN)
                    .await
            }
            Self::Sql(db) => {
                let expires = DateTime::from_timestamp(expires_at, 0).unwrap_or_else(Utc::now);
                store::sessions::revoke_access_token(db, jti, expires)
                    .await
                    .map_err(db_unavailable)
            }
        }
    }

    /// Revokes every access token of a session. (The session row itself is
    /// revoked by the caller; it is what refresh and the SQL check read.)
    pub async fn revoke_session(&self, sid: &str) -> Result<(), RevocationError> {
        match self {
            Self::Redis { redis, access_ttl } => {
                redis.revoke_session(sid, *access_ttl + MARGIN).await
            }
            Self::Sql(_) => Ok(()),
        }
    }

    /// Kills the user's tokens issued before `instant` (unix seconds).
    /// (The durable copy in the users table is written by the caller.)
    pub async fn set_not_before(&self, user_id: i64, instant: i64) -> Result<(), RevocationError> {
        match self {
            Self::Redis { redis, access_ttl } => {
                redis
                    .set_not_before(&user_id.to_string(), instant, *access_ttl + MARGIN)
                    .await
            }
            Self::Sql(_) => Ok(()),
        }
    }

    /// Fails when the state every verifier reads cannot be reached, so a
    /// refresh never hands out a token while revocation is blind.
    pub async fn ensure_available(&self) -> Result<(), RevocationError> {
        if self.ping().await {
            Ok(())
        } else {
            Err(RevocationError::Unavailable)
        }
    }
}

#[async_trait]
impl RevocationCheck for RevocationStore {
    async fn check(&self, claims: &AccessClaims) -> Result<(), RevocationError> {
        match self {
            Self::Redis { redis, .. } => redis.check(claims).await,
            Self::Sql(db) => {
                if store::sessions::is_access_token_revoked(db, &claims.jti)
                    .await
                    .map_err(db_unavailable)?
                {
                    return Err(RevocationError::Revoked);
                }
                let session = store::sessions::get(db, &claims.sid)
                    .await
                    .map_err(db_unavailable)?;
                if session.is_none_or(|session| session.revoked_at.is_some()) {
                    return Err(RevocationError::Revoked);
                }
                let user_id = claims.user_id().ok_or(RevocationError::Revoked)?;
                let not_before = store::users::not_before(db, user_id)
                    .await
                    .map_err(db_unavailable)?;
                if not_before.is_some_and(|instant| claims.iat < instant) {
                    return Err(RevocationError::Revoked);
                }
                Ok(())
            }
        }
    }

    async fn ping(&self) -> bool {
        match self {
            Self::Redis { redis, .. } => redis.ping().await,
            Self::Sql(db) => store::ping(db).await,
        }
    }
}
