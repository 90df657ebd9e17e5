//! Administration: users (search, role, standing, sessions) and signing
//! keys. Admin tokens only; a demoted or banned admin's tokens are dead at
//! once, so the role in the token is current.

use shared::required::Text;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use shared::{AccessTokenAuth, Role};

use poem::Request;

use super::error::{Admin, ApiError, Refusal, not_spread};
use super::sessions::{SessionView, session_view};
use super::{ApiTags, client_info};
use crate::accounts::lifecycle::{AccountQuery, MAX_BAN_REASON_CHARS, StandingChange};
use crate::accounts::{Account, AccountStatus};
use crate::audit::{Event, EventKind};
use crate::state::AppState;

/// The admin's user id; 403 for anyone else.
pub fn require_admin(auth: &AccessTokenAuth) -> Result<i64, ApiError> {
    match auth.0.claims.user_id() {
        Some(id) if auth.0.claims.role == Role::Admin => Ok(id),
        Some(_) => Err(ApiError::AdminRequired),
        None => Err(ApiError::Unauthenticated),
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum RoleName {
    Admin,
    User,
}

impl From<RoleName> for Role {
    fn from(role: RoleName) -> Role {
        match role {
            RoleName::Admin => Role::Admin,
            RoleName::User => Role::User,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum StatusName {
    Active,
    Disabled,
    Banned,
}

impl From<StatusName> for AccountStatus {
    fn from(status: StatusName) -> AccountStatus {
        match status {
            StatusName::Active => AccountStatus::Active,
            StatusName::Disabled => AccountStatus::Disabled,
            StatusName::Banned => AccountStatus::Banned,
        }
    }
}

/// An account as admins see it.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct AdminUser {
    pub id: i64,
    #[oai(nullable)]
    pub email: Option<String>,
    #[oai(nullable)]
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// `admin` or `user`.
    pub role: String,
    /// `active`, `disabled` or `banned` (a ban that ran out reads `active`).
    pub status: String,
    /// While banned: when the ban ends by itself (none: until lifted).
    #[oai(skip_serializing_if_is_none)]
    pub banned_until: Option<DateTime<Utc>>,
    /// While banned: why.
    #[oai(skip_serializing_if_is_none)]
    pub ban_reason: Option<String>,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn admin_user(account: Account) -> AdminUser {
    AdminUser {
        id: account.id,
        email: account.email,
        username: account.username,
        first_name: account.first_name,
        last_name: account.last_name,
        role: account.role.as_str().to_owned(),
        status: account.status.as_str().to_owned(),
        banned_until: account.banned_until,
        ban_reason: account.ban_reason,
        email_verified: account.email_verified,
        created_at: account.created_at,
        updated_at: account.updated_at,
    }
}

/// One page of accounts.
#[derive(Object, Debug)]
pub struct UserPage {
    pub users: Vec<AdminUser>,
    /// How many accounts match in all.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// What to change; absent fields stay as they are.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct UserUpdate {
    #[oai(nullable)]
    pub role: Option<RoleName>,
    #[oai(nullable)]
    pub status: Option<StatusName>,
    /// With `status: banned`: when the ban ends by itself (absent: until lifted).
    #[oai(nullable)]
    pub banned_until: Option<DateTime<Utc>>,
    /// With `status: banned`: why (shown to admins only).
    #[oai(validator(max_length = 500))]
    #[oai(nullable)]
    pub reason: Option<Text>,
}

#[derive(ApiResponse)]
pub enum SessionsEnded {
    /// The session (or sessions) ended; their tokens stop working everywhere.
    #[oai(status = 204)]
    Done,
}

const DEFAULT_PAGE: u32 = 20;
const _: () = assert!(MAX_BAN_REASON_CHARS == 500);

#[derive(Object, Debug)]
pub struct RotatedKey {
    /// The id of the key that signs from now on.
    pub kid: String,
}

pub struct AdminApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminApi {
    /// Search users
    ///
    /// `q` matches email, username and names (case-insensitive, anywhere);
    /// `status` and `role` filter. Ordered by id.
    #[oai(path = "/api/v1/admin/users", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list_users(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        #[oai(validator(max_length = 255))] q: Query<Option<String>>,
        status: Query<Option<StatusName>>,
        role: Query<Option<RoleName>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u32>>,
        #[oai(validator(maximum(value = "1000000")))] offset: Query<Option<u32>>,
    ) -> Result<Json<UserPage>, Refusal<Admin>> {
        require_admin(&auth)?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE);
        let offset = offset.0.unwrap_or(0);
        let page = state
            .accounts()
            .search(AccountQuery {
                text: q.0,
                status: status.0.map(Into::into),
                role: role.0.map(Into::into),
                limit: limit.into(),
                offset: offset.into(),
            })
            .await?;
        Ok(Json(UserPage {
            users: page.accounts.into_iter().map(admin_user).collect(),
            total: page.total,
            limit,
            offset,
        }))
    }

    /// One user
    #[oai(path = "/api/v1/admin/users/:id", method = "get")]
    async fn get_user(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        id: Path<i64>,
    ) -> Result<Json<AdminUser>, Refusal<Admin>> {
        require_admin(&auth)?;
        let account = state
            .accounts()
            .by_id(id.0)
            .await?
            .ok_or(ApiError::UserNotFound)?;
        Ok(Json(admin_user(account)))
    }

    /// Change a user's role or standing
    ///
    /// Ban (optionally until `bannedUntil`, with a `reason`), unban,
    /// disable, reactivate, promote or demote. Bans, disabling and role
    /// changes end every session of the user: their tokens stop working at
    /// every service on the next request. The last active admin cannot be
    /// demoted, disabled or banned (409).
    #[oai(path = "/api/v1/admin/users/:id", method = "patch")]
    async fn update_user(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        req: &Request,
        id: Path<i64>,
        body: Json<UserUpdate>,
    ) -> Result<Json<AdminUser>, Refusal<Admin>> {
        let admin = require_admin(&auth)?;
        let update = body.0;
        let change = StandingChange {
            role: update.role.map(Into::into),
            status: update.status.map(Into::into),
            banned_until: update.banned_until,
            reason: update.reason.map(String::from),
        };
        let client = client_info(&state, req);
        let account = state
            .accounts()
            .update_standing(id.0, change, admin, &client)
            .await?;
        tracing::info!(user = id.0, by = %auth.0.claims.sub, "user changed by an admin");
        Ok(Json(admin_user(account)))
    }

    /// A user's live sessions
    #[oai(path = "/api/v1/admin/users/:id/sessions", method = "get")]
    async fn user_sessions(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        id: Path<i64>,
    ) -> Result<Json<Vec<SessionView>>, Refusal<Admin>> {
        require_admin(&auth)?;
        let sessions = state.accounts().sessions_of(id.0).await?;
        let current = Some(auth.0.claims.sid.as_str());
        Ok(Json(
            sessions
                .into_iter()
                .map(|session| session_view(session, current))
                .collect(),
        ))
    }

    /// End one session of a user
    #[oai(path = "/api/v1/admin/users/:id/sessions/:sid", method = "delete")]
    async fn end_user_session(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        req: &Request,
        id: Path<i64>,
        sid: Path<String>,
    ) -> Result<SessionsEnded, Refusal<Admin>> {
        let admin = require_admin(&auth)?;
        let client = client_info(&state, req);
        state
            .accounts()
            .end_session_of(id.0, &sid.0, admin, &client)
            .await?;
        Ok(SessionsEnded::Done)
    }

    /// End every session of a user
    #[oai(path = "/api/v1/admin/users/:id/sessions", method = "delete")]
    async fn end_user_sessions(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        req: &Request,
        id: Path<i64>,
    ) -> Result<SessionsEnded, Refusal<Admin>> {
        let admin = require_admin(&auth)?;
        let client = client_info(&state, req);
        state
            .accounts()
            .end_sessions_of(id.0, None, admin, &client)
            .await?;
        Ok(SessionsEnded::Done)
    }

    /// Rotate the token signing key
    ///
    /// A new key signs from now on; the old one stays in the JWKS until the
    /// last token it signed has expired. Admins only.
    #[oai(path = "/api/v1/admin/signing-keys/rotate", method = "post")]
    async fn rotate_signing_key(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: AccessTokenAuth,
    ) -> Result<Json<RotatedKey>, Refusal<Admin>> {
        let admin = require_admin(&auth)?;
        let change = state.keys.rotate().await.map_err(ApiError::Internal)?;
        let event = Event::new(EventKind::SigningKeyRotated)
            .by(Some(admin))
            .detail(format!("kid {}", change.signing_kid));
        let origin = client_info(&state, req).origin();
        state.audit.record_now(&state.db, event, &origin).await;
        state
            .revocations
            .committed(&change.facts, change.last_fact_id)
            .await
            .map_err(not_spread)?;
        tracing::info!(kid = %change.signing_kid, by = %auth.0.claims.sub, "signing key rotated");
        Ok(Json(RotatedKey {
            kid: change.signing_kid,
        }))
    }

    /// Revoke a compromised signing key
    ///
    /// The key leaves the JWKS at once and every verifier refuses its tokens
    /// on the next request; when it was the signing key, the next key signs
    /// from now on. Answers the key that signs now. Admins only.
    #[oai(path = "/api/v1/admin/signing-keys/:kid/revoke", method = "post")]
    async fn revoke_signing_key(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: AccessTokenAuth,
        kid: Path<String>,
    ) -> Result<Json<RotatedKey>, Refusal<Admin>> {
        let admin = require_admin(&auth)?;
        let change = state
            .keys
            .revoke(&kid.0)
            .await
            .map_err(ApiError::Internal)?
            .ok_or(ApiError::KeyNotFound)?;
        let event = Event::new(EventKind::SigningKeyRevoked)
            .by(Some(admin))
            .detail(format!("kid {}", kid.0));
        let origin = client_info(&state, req).origin();
        state.audit.record_now(&state.db, event, &origin).await;
        state
            .revocations
            .committed(&change.facts, change.last_fact_id)
            .await
            .map_err(not_spread)?;
        tracing::warn!(kid = %kid.0, by = %auth.0.claims.sub, "signing key revoked");
        Ok(Json(RotatedKey {
            kid: change.signing_kid,
        }))
    }
}
