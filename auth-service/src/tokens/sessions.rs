//! Sessions: starting one at login, rotating its refresh token, ending it.
//!
//! Rotation: every use of a refresh token exchanges it for its successor.
//! Presenting an already-rotated token again is reuse: the whole session
//! dies, unless it happens within the grace window, where it is a
//! concurrent retry (several tabs refreshing at once) and gets the same
//! answer as the rotation it raced with.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use shared::AccessClaims;

use super::refresh::{self, RotationSecret};
use super::revocation::Revocations;
use super::{IssuedAccessToken, TokenIssuer, TokenSubject};
use crate::accounts::{AccountStatus, display_name, ensure_may_log_in, role_of};
use crate::config::TokenSettings;
use crate::entity::user;
use crate::error::{AppError, AppResult};
use crate::store;

/// What a successful login or refresh hands out.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub user_id: i64,
    pub access: IssuedAccessToken,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// What introspection may tell of a live refresh token.
#[derive(Debug, Clone)]
pub struct RefreshInfo {
    pub user_id: i64,
    pub session_id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub struct Sessions {
    db: DatabaseConnection,
    issuer: Arc<TokenIssuer>,
    rotation: RotationSecret,
    revocations: Arc<Revocations>,
    settings: TokenSettings,
}

pub fn subject_of(user: &user::Model) -> TokenSubject {
    TokenSubject {
        user_id: user.id,
        role: role_of(&user.role),
        email: user.email.clone(),
        name: display_name(&user.first_name, &user.last_name),
    }
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

    /// Opens a session for `user` (inside the caller's transaction).
    pub async fn start(
        &self,
        conn: &impl ConnectionTrait,
        user: &user::Model,
        now: DateTime<Utc>,
    ) -> AppResult<TokenGrant> {
        let session_id = uuid::Uuid::new_v4().to_string();
        let refresh_token = refresh::generate()?;
        let refresh_expires_at = now + ttl(self.settings.refresh_ttl);
        store::sessions::create(conn, &session_id, user.id, now, refresh_expires_at).await?;
        store::sessions::insert_refresh_token(
            conn,
            refresh::hash(&refresh_token),
            &session_id,
            now,
            refresh_expires_at,
        )
        .await?;
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let access =
            self.issuer
                .access_token(&subject_of(user), &session_id, jti, now.timestamp())?;
        Ok(TokenGrant {
            user_id: user.id,
            access,
            refresh_token,
            refresh_expires_at,
        })
    }

    /// Exchanges a refresh token for a new pair.
    pub async fn refresh(&self, presented: &str) -> AppResult<TokenGrant> {
        let now = Utc::now();
        let token_hash = refresh::hash(presented);
        let row = store::sessions::refresh_token(&self.db, &token_hash)
            .await?
            .ok_or(AppError::InvalidRefreshToken)?;
        let session = store::sessions::get(&self.db, &row.session_id)
            .await?
            .ok_or(AppError::InvalidRefreshToken)?;
        if session.revoked_at.is_some() || row.expires_at <= now {
            return Err(AppError::InvalidRefreshToken);
        }
        let user = store::users::by_id(&self.db, session.user_id)
            .await?
            .ok_or(AppError::InvalidRefreshToken)?;
        ensure_may_log_in(AccountStatus::parse(&user.status))?;
        self.revocations.ensure_publishing()?;

        let rotated_at = match row.rotated_at {
            Some(at) => at,
            None => {
                self.rotate(presented, &token_hash, &session.id, now)
                    .await?
            }
        };
        let retry = rotated_at != now;
        if retry && now - rotated_at > ttl(self.settings.refresh_grace) {
            tracing::warn!(session = %session.id, user = user.id, "refresh token reused; session revoked");
            self.end_session(&session.id, now).await?;
            return Err(AppError::InvalidRefreshToken);
        }
        // The answer of the rotation at `rotated_at`, rebuilt: same successor,
        // same access token (same claims, deterministic signature).
        let jti = self.rotation.access_token_id(presented);
        let access = self.issuer.access_token(
            &subject_of(&user),
            &session.id,
            jti,
            rotated_at.timestamp(),
        )?;
        Ok(TokenGrant {
            user_id: user.id,
            access,
            refresh_token: self.rotation.successor(presented),
            refresh_expires_at: rotated_at + ttl(self.settings.refresh_ttl),
        })
    }

    /// Marks the token rotated and stores its successor; when a concurrent
    /// request won that race, returns the winner's rotation time instead.
    async fn rotate(
        &self,
        presented: &str,
        token_hash: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<DateTime<Utc>> {
        let txn = self.db.begin().await?;
        if store::sessions::mark_rotated(&txn, token_hash, now).await? {
            let successor = self.rotation.successor(presented);
            let expires_at = now + ttl(self.settings.refresh_ttl);
            store::sessions::insert_refresh_token(
                &txn,
                refresh::hash(&successor),
                session_id,
                now,
                expires_at,
            )
            .await?;
            store::sessions::extend(&txn, session_id, expires_at).await?;
            txn.commit().await?;
            return Ok(now);
        }
        txn.rollback().await?;
        store::sessions::refresh_token(&self.db, token_hash)
            .await?
            .and_then(|row| row.rotated_at)
            .ok_or(AppError::InvalidRefreshToken)
    }

    /// A refresh token that would be accepted now (not rotated, not
    /// expired, its session live, its user allowed in), described.
    pub async fn refresh_info(&self, presented: &str) -> AppResult<Option<RefreshInfo>> {
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
        let user = store::users::by_id(&self.db, session.user_id).await?;
        let allowed =
            user.is_some_and(|user| ensure_may_log_in(AccountStatus::parse(&user.status)).is_ok());
        Ok(allowed.then_some(RefreshInfo {
            user_id: session.user_id,
            session_id: session.id,
            issued_at: row.issued_at,
            expires_at: row.expires_at,
        }))
    }

    /// Ends the session a refresh token (of any age) belongs to; nothing
    /// when the token is unknown.
    pub async fn end_by_refresh_token(&self, presented: &str) -> AppResult<()> {
        let row = store::sessions::refresh_token(&self.db, &refresh::hash(presented)).await?;
        match row {
            Some(row) => self.end_session(&row.session_id, Utc::now()).await,
            None => Ok(()),
        }
    }

    /// Ends one session: its refresh tokens and access tokens stop working.
    async fn end_session(&self, session_id: &str, now: DateTime<Utc>) -> AppResult<()> {
        self.revoke(&[session_id.to_owned()], Vec::new(), None, now)
            .await
    }

    /// Logout: the presented access token and its whole session die.
    pub async fn logout(&self, claims: &AccessClaims) -> AppResult<()> {
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
    pub async fn logout_all(&self, user_id: i64) -> AppResult<()> {
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
        mut facts: Vec<shared::Fact>,
        everything_of: Option<i64>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        facts.extend(sessions.iter().map(|sid| self.revocations.session(sid)));
        let txn = self.db.begin().await?;
        if let Some(user_id) = everything_of {
            let instant = now.timestamp();
            facts.push(self.revocations.user_not_before(user_id, instant));
            store::users::set_not_before(&txn, user_id, instant).await?;
            store::sessions::revoke_all(&txn, user_id, now).await?;
        }
        for sid in sessions {
            store::sessions::revoke(&txn, sid, now).await?;
        }
        let last = self.revocations.record(&txn, &facts).await?;
        txn.commit().await?;
        self.revocations.committed(&facts, last).await?;
        Ok(())
    }
}
