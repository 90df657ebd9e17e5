//! Revocation, as every verifying service sees it.
//!
//! The account manager is the only writer. It records each revocation fact
//! in its SQL database first (the durable truth), then publishes it on a
//! feed: a Redis stream when Redis is configured ([`redis`]), its own HTTP
//! long-poll route otherwise ([`http`]). Each verifier keeps the live facts
//! in memory ([`RevocationSet`]), kept current by a [`follower`], and checks
//! every token against them with no network call.
//!
//! A verifier that cannot be sure its set is current (no snapshot yet, the
//! feed silent for longer than the staleness bound, or the feed's store lost
//! its data) refuses every token with "unavailable" (503) rather than
//! accepting one it cannot check.

pub mod follower;
pub mod http;
pub mod redis;
mod set;
pub mod topology;

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

pub use follower::{
    AccountEvents, FeedBatch, FeedCursor, FeedError, FeedSource, KeyEvents, spawn_follower,
};
pub use set::RevocationSet;

use crate::claims::AccessClaims;

/// The default key prefix of the feed in Redis; the account manager and
/// every verifier must use the same one.
pub const DEFAULT_REDIS_PREFIX: &str = "auth:revoked:";

/// The shortest staleness bound a verifier accepts: longer than one
/// blocking read or long poll of the feed, so a quiet feed is not mistaken
/// for a silent one.
pub const MIN_STALENESS: std::time::Duration = std::time::Duration::from_secs(2);

/// What a revocation fact kills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Enum)]
#[serde(rename_all = "camelCase")]
#[oai(rename_all = "camelCase")]
pub enum FactKind {
    /// One token, by `jti` (logout of that token, RFC 7009 revocation).
    Token,
    /// Every token of a session, by `sid` (logout, refresh-token reuse,
    /// a session ended).
    Session,
    /// Every token of a user (`sub`) issued before `at` (logout everywhere,
    /// password change or reset, disable, ban).
    NotBefore,
    /// A signing key, by `kid`, that must no longer verify anything
    /// (emergency retirement of a compromised key).
    KeyRevoked,
    /// The set of signing keys changed (a rotation): fetch the JWKS again.
    KeysChanged,
    /// An account (by user id) changed what it shows: whoever keeps a copy
    /// of it reads it again. It kills no token.
    AccountChanged,
}

impl FactKind {
    /// The name on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::Token => "token",
            FactKind::Session => "session",
            FactKind::NotBefore => "notBefore",
            FactKind::KeyRevoked => "keyRevoked",
            FactKind::KeysChanged => "keysChanged",
            FactKind::AccountChanged => "accountChanged",
        }
    }

    pub fn parse(name: &str) -> Option<FactKind> {
        Some(match name {
            "token" => FactKind::Token,
            "session" => FactKind::Session,
            "notBefore" => FactKind::NotBefore,
            "keyRevoked" => FactKind::KeyRevoked,
            "keysChanged" => FactKind::KeysChanged,
            "accountChanged" => FactKind::AccountChanged,
            _ => return None,
        })
    }
}

/// One revocation fact. It matters until `expiresAt` (unix seconds), when
/// every token it could affect has expired anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename_all = "camelCase")]
pub struct Fact {
    pub kind: FactKind,
    /// The `jti`, `sid`, user id or `kid` the fact is about (empty for
    /// `keysChanged`; a user id for `accountChanged`).
    pub subject: String,
    /// For `notBefore`: tokens issued before this instant (unix seconds) die.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub at: Option<i64>,
    pub expires_at: i64,
}

impl Fact {
    pub fn token(jti: &str, expires_at: i64) -> Self {
        Self::new(FactKind::Token, jti, None, expires_at)
    }

    pub fn session(sid: &str, expires_at: i64) -> Self {
        Self::new(FactKind::Session, sid, None, expires_at)
    }

    pub fn not_before(user_id: &str, at: i64, expires_at: i64) -> Self {
        Self::new(FactKind::NotBefore, user_id, Some(at), expires_at)
    }

    pub fn key_revoked(kid: &str, expires_at: i64) -> Self {
        Self::new(FactKind::KeyRevoked, kid, None, expires_at)
    }

    pub fn keys_changed(expires_at: i64) -> Self {
        Self::new(FactKind::KeysChanged, "", None, expires_at)
    }

    pub fn account_changed(user_id: &str, expires_at: i64) -> Self {
        Self::new(FactKind::AccountChanged, user_id, None, expires_at)
    }

    fn new(kind: FactKind, subject: &str, at: Option<i64>, expires_at: i64) -> Self {
        Self {
            kind,
            subject: subject.to_owned(),
            at,
            expires_at,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum RevocationError {
    #[error("the token has been revoked")]
    Revoked,
    /// The revocation state is not known to be current; the token must not
    /// be accepted.
    #[error("the revocation state is not current")]
    Unavailable,
}

/// Answers whether a verified access token is still live. Implementations
/// answer from memory: this runs on every authenticated request.
pub trait RevocationCheck: Send + Sync {
    fn check(&self, claims: &AccessClaims) -> Result<(), RevocationError>;

    /// Checks a token that has no session or user (a service token).
    fn check_token_id(&self, jti: &str) -> Result<(), RevocationError>;

    /// Whether the state is known to be current (for readiness probes).
    fn is_current(&self) -> bool;
}
