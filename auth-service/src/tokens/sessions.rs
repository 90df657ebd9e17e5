//! Sessions: starting one at login, rotating its refresh token, ending it.
//!
//! Rotation: every use of a refresh token exchanges it for its successor.
//! Presenting an already-rotated token again is reuse: the whole session
//! dies, unless it happens within the grace window, where it is a
//! concurrent retry (several tabs refreshing at once) and gets the same
//! answer as the rotation it raced with.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use shared::{AccessClaims, RevocationError};

use super::refresh::{self, RotationSecret};
use super::revocation::{RevocationOutcome, Revocations};
use super::{IssuedAccessToken, TokenIssuer, TokenSubject};
use crate::audit::Origin;
use crate::config::TokenSettings;
use crate::entity::user;
use crate::store;

/// What a successful login or refresh hands out.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub user_id: i64,
    pub access: IssuedAccessToken,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// What a session is opened with, chosen by the API edge from the route
/// (never from what a client says about itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionTerms {
    /// The client never receives a new refresh token (seed 003): the
    /// session keeps its first one for life, unrotated; on a refresh, the
    /// client cannot take a rotated one either.
    pub fixed_refresh: bool,
    /// The client never refreshes (kanban's seed-000 sign-ins, asked for
    /// by a trusted service): access tokens get the extended lifetime.
    pub extended_access: bool,
}

/// Where a session is opened from, as the client said (kept to show the
/// user their sessions; never trusted for anything), and the terms the
/// route opens it with.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    /// The request's id, for the audit log.
    pub request_id: Option<String>,
    pub terms: SessionTerms,
}

/// The longest user agent kept.
const MAX_USER_AGENT_CHARS: usize = 255;

impl ClientInfo {
    /// Who the client is for the refresh grace window: a hash of its user
    /// agent and address.
    fn fingerprint(&self) -> String {
        let agent = self.user_agent.as_deref().unwrap_or_default();
        let address = self.ip_address.as_deref().unwrap_or_default();
        refresh::hash(&format!("{agent}\n{address}"))
    }

    pub fn new(user_agent: Option<&str>, ip_address: Option<String>) -> Self {
        let user_agent = user_agent
            .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect::<String>())
            .filter(|agent| !agent.trim().is_empty());
        Self {
            user_agent,
            ip_address,
            request_id: None,
            terms: SessionTerms::default(),
        }
    }

    pub fn with_terms(mut self, terms: SessionTerms) -> Self {
        self.terms = terms;
        self
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    /// Where the request came from, as the audit log records it.
    pub fn origin(&self) -> Origin {
        Origin {
            ip_address: self.ip_address.clone(),
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

/// A live session, as its user (or an admin) sees it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

/// Revocations recorded inside a caller's transaction: hand them to
/// [`Sessions::spread`] once it committed.
#[must_use = "recorded revocations must be spread once the transaction commits"]
pub struct Revoked {
    facts: Vec<shared::Fact>,
    last_id: i64,
}

/// What introspection may tell of a live refresh token.
#[derive(Debug, Clone)]
pub struct RefreshInfo {
    pub user_id: i64,
    pub session_id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Why a refresh token was not exchanged (the account's own standing is
/// the accounts side's to refuse, before [`Sessions::refresh`]).
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired, revoked or reused refresh token, or its session's
    /// user is gone.
    #[error("invalid refresh token")]
    Invalid,
    /// A known refresh token of a session that was ended; whose it was lets
    /// the accounts side say why (a ban answers as a ban).
    #[error("session ended")]
    Ended { user_id: i64 },
    /// An already-rotated refresh token came back from another client or
    /// too late: its session was ended (the accounts side records it).
    #[error("refresh token reused")]
    Reused { user_id: i64 },
    /// Revocations cannot reach every verifier now, so no token is handed
    /// out that a later revocation could not kill.
    #[error("revocation state unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for RefreshError {
    fn from(err: DbErr) -> Self {
        RefreshError::Internal(err.into())
    }
}

impl From<RevocationError> for RefreshError {
    fn from(err: RevocationError) -> Self {
        match err {
            RevocationError::Unavailable => RefreshError::Unavailable,
            // For a refresh, a revoked session is just an invalid token.
            RevocationError::Revoked => RefreshError::Invalid,
        }
    }
}

impl From<RevocationOutcome> for RefreshError {
    fn from(err: RevocationOutcome) -> Self {
        match err {
            RevocationOutcome::Database(err) => err.into(),
            RevocationOutcome::Spread(err) => err.into(),
        }
    }
}

/// The accounts side's word on whether a user may still hold a session;
/// introspection asks it, so that the refresh tokens of a disabled account
/// are described as inactive. Tokens never decide that themselves.
#[async_trait]
pub trait SessionHolders: Send + Sync {
    async fn may_hold_session(&self, user_id: i64) -> anyhow::Result<bool>;
}

/// A refresh token that may be exchanged: known, unexpired, its session
/// live. Whose session it is ([`Self::user_id`], and the account as stored,
/// [`Self::take_holder`]) lets the accounts side decide whether the account
/// may go on; then [`Sessions::refresh`].
/// (No `Debug`: it holds the presented token, and the account's row.)
pub struct Redeemable {
    presented: String,
    token_hash: String,
    issued_at: DateTime<Utc>,
    rotated_at: Option<DateTime<Utc>>,
    rotated_by: Option<String>,
    session_id: String,
    user_id: i64,
    terms: SessionTerms,
    expires_at: DateTime<Utc>,
    /// When the token was presented: the instant the whole refresh uses.
    now: DateTime<Utc>,
    /// The session's user as stored, read with the token in the same
    /// statement; the accounts side judges it, tokens never look inside.
    holder: Option<user::Model>,
}

impl Redeemable {
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// The session's user as stored when the token was read (none when the
    /// account is gone), for the accounts side to judge; taken once.
    pub fn take_holder(&mut self) -> Option<user::Model> {
        self.holder.take()
    }
}

pub struct Sessions {
    db: DatabaseConnection,
    issuer: Arc<TokenIssuer>,
    rotation: RotationSecret,
    revocations: Arc<Revocations>,
    settings: TokenSettings,
}

fn ttl(duration: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

impl Sessions {
    pub fn new(
        db: DatabaseConnection,
        issuer: Arc<TokenIssuer>,
        rotation: RotationSecret,
        revocations: Arc<Revocations>,
        settings: TokenSettings,
    ) -> Self {
        Self {
            db,
            issuer,
            rotation,
            revocations,
            settings,
        }
    }

    /// Opens a session for `subject`, whose account the caller found in
    /// good standing (inside the caller's transaction).
    pub async fn start(
        &self,
        conn: &impl ConnectionTrait,
        subject: &TokenSubject,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> anyhow::Result<TokenGrant> {
        let session_id = uuid::Uuid::new_v4().to_string();
        let terms = client.terms;
        let refresh_expires_at = now + ttl(self.settings.refresh_ttl(terms.fixed_refresh));
        let refresh_token = if terms.fixed_refresh {
            self.issuer.refresh_token(
                subject.user_id,
                &session_id,
                now.timestamp(),
                refresh_expires_at.timestamp(),
            )?
        } else {
            refresh::generate()?
        };
        let new = store::sessions::NewSession {
            id: &session_id,
            user_id: subject.user_id,
            user_agent: client.user_agent.clone(),
            ip_address: client.ip_address.clone(),
            fixed_refresh: terms.fixed_refresh,
            extended_access: terms.extended_access,
        };
        store::sessions::create(conn, new, now, refresh_expires_at).await?;
        store::sessions::insert_refresh_token(
            conn,
            refresh::hash(&refresh_token),
            &session_id,
            now,
            refresh_expires_at,
        )
        .await?;
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let access = self.issuer.access_token(
            subject,
            &session_id,
            jti,
            now.timestamp(),
            terms.extended_access,
        )?;
        Ok(TokenGrant {
            user_id: subject.user_id,
            access,
            refresh_token,
            refresh_expires_at,
        })
    }

    /// The refresh token `presented`, if it may be exchanged: known, not
    /// expired, its session live. Nothing changes yet. One statement reads
    /// the token, its session and the session's user.
    pub async fn redeemable(&self, presented: &str) -> Result<Redeemable, RefreshError> {
        let now = Utc::now();
        let token_hash = refresh::hash(presented);
        let (row, session, holder) =
            store::sessions::refresh_token_with_holder(&self.db, &token_hash)
                .await?
                .ok_or(RefreshError::Invalid)?;
        if session.revoked_at.is_some() {
            return Err(RefreshError::Ended {
                user_id: session.user_id,
            });
        }
        if row.expires_at <= now {
            return Err(RefreshError::Invalid);
        }
        Ok(Redeemable {
            presented: presented.to_owned(),
            token_hash,
            issued_at: row.issued_at,
            rotated_at: row.rotated_at,
            rotated_by: row.rotated_by,
            terms: SessionTerms {
                fixed_refresh: session.fixed_refresh,
                extended_access: session.extended_access,
            },
            expires_at: row.expires_at,
            session_id: session.id,
            user_id: session.user_id,
            now,
            holder,
        })
    }

    /// Exchanges a redeemable refresh token for a new pair speaking for
    /// `subject`: the session's user, whose account the caller found in
    /// good standing. A replay within the grace window gets the same pair
    /// only when it comes from the client that rotated the token (same user
    /// agent and address: its own retry, or another tab); from anyone else
    /// it is reuse, and the session ends.
    pub async fn refresh(
        &self,
        token: Redeemable,
        subject: &TokenSubject,
        client: &ClientInfo,
    ) -> Result<TokenGrant, RefreshError> {
        if subject.user_id != token.user_id {
            return Err(anyhow::anyhow!("a refresh for another user than the session's").into());
        }
        self.revocations.ensure_publishing()?;
        if token.terms.fixed_refresh {
            return self.reissue(&token, subject).await;
        }
        if client.terms.fixed_refresh {
            // Rotating it would hand the successor to a client that cannot
            // keep it, and its next refresh would end the session as reuse.
            tracing::info!(session = %token.session_id, "a rotating session's refresh token presented where no new one can be returned");
            return Err(RefreshError::Invalid);
        }
        let presenter = client.fingerprint();
        let (rotated_at, rotated_by) = match (token.rotated_at, &token.rotated_by) {
            (Some(at), by) => (at, by.clone()),
            (None, _) => self.rotate(&token, &presenter).await?,
        };
        let Redeemable {
            presented,
            session_id,
            now,
            ..
        } = &token;
        let retry = rotated_at != *now;
        let late = *now - rotated_at > ttl(self.settings.refresh_grace);
        let stranger = rotated_by.as_deref() != Some(presenter.as_str());
        if retry && (late || stranger) {
            let why = if late {
                "after the grace window"
            } else {
                "by another client"
            };
            tracing::warn!(session = %session_id, user = token.user_id, reuse = why, "refresh token reused; session revoked");
            self.end_session(session_id, *now).await?;
            return Err(RefreshError::Reused {
                user_id: token.user_id,
            });
        }
        // The answer of the rotation at `rotated_at`, rebuilt: same successor,
        // same access token (same claims, deterministic signature).
        let jti = self.rotation.access_token_id(presented);
        let access = self.issuer.access_token(
            subject,
            session_id,
            jti,
            rotated_at.timestamp(),
            token.terms.extended_access,
        )?;
        Ok(TokenGrant {
            user_id: token.user_id,
            access,
            refresh_token: self.rotation.successor(presented),
            refresh_expires_at: rotated_at + ttl(self.settings.refresh_ttl),
        })
    }

    /// The refresh of a session that keeps its refresh token: a new access
    /// token, the same refresh token, its expiry unchanged (a fixed token
    /// is never extended: it lives at most its lifetime from login).
    async fn reissue(
        &self,
        token: &Redeemable,
        subject: &TokenSubject,
    ) -> Result<TokenGrant, RefreshError> {
        store::sessions::extend(&self.db, &token.session_id, token.now, token.expires_at).await?;
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let access = self.issuer.access_token(
            subject,
            &token.session_id,
            jti,
            token.now.timestamp(),
            token.terms.extended_access,
        )?;
        Ok(TokenGrant {
            user_id: token.user_id,
            access,
            refresh_token: token.presented.clone(),
            refresh_expires_at: token.expires_at,
        })
    }

    /// Marks the token rotated by `by`, stores its successor and extends
    /// the session, all or nothing; the mark decides a race, and when a
    /// concurrent request won it, returns the winner's rotation time and
    /// client instead (read after the mark waited for the winner's commit).
    async fn rotate(
        &self,
        token: &Redeemable,
        by: &str,
    ) -> Result<(DateTime<Utc>, Option<String>), RefreshError> {
        let now = token.now;
        let successor = self.rotation.successor(&token.presented);
        let expires_at = now + ttl(self.settings.refresh_ttl);
        let rotation = store::sessions::Rotation {
            token_hash: &token.token_hash,
            session_id: &token.session_id,
            issued_at: token.issued_at,
            expires_at: token.expires_at,
            by,
            successor_hash: refresh::hash(&successor),
            successor_expires_at: expires_at,
        };
        match store::sessions::rotate_extending(&self.db, rotation, now).await? {
            store::sessions::Rotated::Now => Ok((now, Some(by.to_owned()))),
            store::sessions::Rotated::Already(row) => {
                let row = row.ok_or(RefreshError::Invalid)?;
                let at = row.rotated_at.ok_or(RefreshError::Invalid)?;
                Ok((at, row.rotated_by))
            }
        }
    }

    /// A refresh token that would be accepted now (not rotated, not
    /// expired, its session live, its user allowed in by `holders`),
    /// described.
    pub async fn refresh_info(
        &self,
        presented: &str,
        holders: &dyn SessionHolders,
    ) -> anyhow::Result<Option<RefreshInfo>> {
        let now = Utc::now();
        let Some(row) = store::sessions::refresh_token(&self.db, &refresh::hash(presented)).await?
        else {
            return Ok(None);
        };
        if row.rotated_at.is_some() || row.expires_at <= now {
            return Ok(None);
        }
        let Some(session) = store::sessions::get(&self.db, &row.session_id).await? else {
            return Ok(None);
        };
        if session.revoked_at.is_some() {
            return Ok(None);
        }
        let allowed = holders.may_hold_session(session.user_id).await?;
        Ok(allowed.then_some(RefreshInfo {
            user_id: session.user_id,
            session_id: session.id,
            issued_at: row.issued_at,
            expires_at: row.expires_at,
        }))
    }

    /// Ends the session a refresh token (of any age) belongs to; nothing
    /// when the token is unknown.
    pub async fn end_by_refresh_token(&self, presented: &str) -> Result<(), RevocationOutcome> {
        let row = store::sessions::refresh_token(&self.db, &refresh::hash(presented)).await?;
        match row {
            Some(row) => self.end_session(&row.session_id, Utc::now()).await,
            None => Ok(()),
        }
    }

    /// Ends one session: its refresh tokens and access tokens stop working.
    async fn end_session(
        &self,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RevocationOutcome> {
        self.revoke(&[session_id.to_owned()], Vec::new(), None, now)
            .await
    }

    /// Logout: the presented access token and its whole session die.
    pub async fn logout(&self, claims: &AccessClaims) -> Result<(), RevocationOutcome> {
        let token = self.revocations.token(&claims.jti, claims.exp);
        self.revoke(
            std::slice::from_ref(&claims.sid),
            vec![token],
            None,
            Utc::now(),
        )
        .await
    }

    /// Logout everywhere: every session of the user dies, and every token
    /// issued before now.
    pub async fn logout_all(&self, user_id: i64) -> Result<(), RevocationOutcome> {
        let now = Utc::now();
        let sessions = store::sessions::live_ids(&self.db, user_id, now).await?;
        self.revoke(&sessions, Vec::new(), Some(user_id), now).await
    }

    /// Ends `sessions` (and, with `everything_of`, every session of that
    /// user and every token issued before `now`), recording the facts in
    /// the same transaction, then spreads them.
    async fn revoke(
        &self,
        sessions: &[String],
        facts: Vec<shared::Fact>,
        everything_of: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), RevocationOutcome> {
        let txn = self.db.begin().await?;
        let revoked = match everything_of {
            Some(user_id) => self.end_all_in(&txn, user_id, facts, now).await?,
            None => self.end_in(&txn, sessions, facts, now).await?,
        };
        txn.commit().await?;
        self.spread(revoked).await?;
        Ok(())
    }

    /// Inside the caller's transaction: ends these sessions, with the
    /// `extra` facts (single tokens) recorded beside theirs.
    pub async fn end_in(
        &self,
        conn: &impl ConnectionTrait,
        sessions: &[String],
        mut extra: Vec<shared::Fact>,
        now: DateTime<Utc>,
    ) -> Result<Revoked, DbErr> {
        extra.extend(sessions.iter().map(|sid| self.revocations.session(sid)));
        for sid in sessions {
            store::sessions::revoke(conn, sid, now).await?;
        }
        let last_id = self.revocations.record(conn, &extra).await?;
        Ok(Revoked {
            facts: extra,
            last_id,
        })
    }

    /// Inside the caller's transaction: every session of the user ends and
    /// every token issued before `now` dies.
    pub async fn end_all_in(
        &self,
        conn: &impl ConnectionTrait,
        user_id: i64,
        mut extra: Vec<shared::Fact>,
        now: DateTime<Utc>,
    ) -> Result<Revoked, DbErr> {
        let sessions = store::sessions::live_ids(conn, user_id, now).await?;
        let instant = now.timestamp();
        extra.push(self.revocations.user_not_before(user_id, instant));
        store::users::set_not_before(conn, user_id, instant).await?;
        store::sessions::revoke_all(conn, user_id, now).await?;
        self.end_in(conn, &sessions, extra, now).await
    }

    /// After the transaction that recorded them committed: every verifier
    /// refuses the revoked tokens (see [`Revocations::committed`]).
    pub async fn spread(&self, revoked: Revoked) -> Result<(), RevocationError> {
        self.revocations
            .committed(&revoked.facts, revoked.last_id)
            .await
    }

    /// The user's live sessions, newest first.
    pub async fn live(&self, user_id: i64) -> Result<Vec<SessionInfo>, DbErr> {
        let sessions = store::sessions::live_of(&self.db, user_id, Utc::now()).await?;
        Ok(sessions
            .into_iter()
            .map(|session| SessionInfo {
                last_used_at: session.last_used_at.unwrap_or(session.created_at),
                id: session.id,
                created_at: session.created_at,
                expires_at: session.expires_at,
                user_agent: session.user_agent,
                ip_address: session.ip_address,
            })
            .collect())
    }

    /// Ends one live session of the user; false when the user has no such
    /// live session.
    pub async fn end_one(&self, user_id: i64, session_id: &str) -> Result<bool, RevocationOutcome> {
        let now = Utc::now();
        let live = store::sessions::live_ids(&self.db, user_id, now).await?;
        if !live.iter().any(|sid| sid == session_id) {
            return Ok(false);
        }
        self.end_session(session_id, now).await?;
        Ok(true)
    }

    /// Ends every live session of the user except `keep`.
    pub async fn end_others(
        &self,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<(), RevocationOutcome> {
        let now = Utc::now();
        let others: Vec<String> = store::sessions::live_ids(&self.db, user_id, now)
            .await?
            .into_iter()
            .filter(|sid| Some(sid.as_str()) != keep)
            .collect();
        if others.is_empty() {
            return Ok(());
        }
        self.revoke(&others, Vec::new(), None, now).await
    }
}
