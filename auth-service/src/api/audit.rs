//! The audit log as admins read it (every event, filtered) and as users read
//! their own security events.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use shared::AccessTokenAuth;

use super::ApiTags;
use super::admin::require_admin;
use super::error::{Admin, ApiError, Own, Refusal};
use crate::audit::{EventKind, EventPage, EventQuery, RecordedEvent};
use crate::state::AppState;

/// One security event.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct AuditEventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `registered`, `login_succeeded`, `login_failed`,
    /// `refresh_token_reused`, `logout`, `logout_all`, `session_ended`,
    /// `password_changed`, `password_reset_requested`, `password_reset`,
    /// `account_disabled`, `account_reactivated`, `account_banned`,
    /// `account_unbanned`, `role_changed`, `signing_key_rotated`,
    /// `signing_key_revoked` or `rate_limited`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Who did it: absent for someone not signed in, or the system.
    #[oai(skip_serializing_if_is_none)]
    pub actor_id: Option<i64>,
    /// Whose account it concerns.
    #[oai(skip_serializing_if_is_none)]
    pub subject_id: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub ip_address: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub user_agent: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub request_id: Option<String>,
    /// A failure's reason, a new role, a ban's end and reason, a key id.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
}

/// One page of events, newest first.
#[derive(Object, Debug)]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// How many events match in all.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

const DEFAULT_PAGE: u32 = 50;

fn view(event: RecordedEvent) -> AuditEventView {
    AuditEventView {
        id: event.id,
        at: event.at,
        kind: event.kind,
        actor_id: event.actor,
        subject_id: event.subject,
        ip_address: event.origin.ip_address,
        user_agent: event.origin.user_agent,
        request_id: event.origin.request_id,
        detail: event.detail,
    }
}

fn page(events: EventPage, limit: u32, offset: u32) -> AuditPage {
    AuditPage {
        events: events.events.into_iter().map(view).collect(),
        total: events.total,
        limit,
        offset,
    }
}

pub struct AuditApi;

#[OpenApi]
impl AuditApi {
    /// Read the audit log
    ///
    /// Every security event, newest first: `userId` keeps those the user
    /// did or that concern them, `type` one kind, `since`/`until` a time
    /// range (RFC 3339; `until` excluded). Admins only.
    #[oai(path = "/api/v1/admin/audit", method = "get", tag = "ApiTags::Admin")]
    #[allow(clippy::too_many_arguments)]
    async fn admin_audit(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        #[oai(name = "userId")] user_id: Query<Option<i64>>,
        #[oai(name = "type", validator(max_length = 64))] kind: Query<Option<String>>,
        since: Query<Option<DateTime<Utc>>>,
        until: Query<Option<DateTime<Utc>>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u32>>,
        #[oai(validator(maximum(value = "1000000")))] offset: Query<Option<u32>>,
    ) -> Result<Json<AuditPage>, Refusal<Admin>> {
        require_admin(&auth)?;
        let kind = kind
            .0
            .map(|kind| EventKind::parse(&kind).ok_or(ApiError::UnknownEventType))
            .transpose()?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE);
        let offset = offset.0.unwrap_or(0);
        let events = state
            .audit
            .search(
                &state.db,
                EventQuery {
                    user: user_id.0,
                    subject: None,
                    kind,
                    since: since.0,
                    until: until.0,
                    limit: limit.into(),
                    offset: offset.into(),
                },
            )
            .await
            .map_err(|err| ApiError::Internal(err.into()))?;
        Ok(Json(page(events, limit, offset)))
    }

    /// My security events
    ///
    /// The current user's own recent security events (sign-ins, failed
    /// sign-ins, password and session changes), newest first.
    #[oai(path = "/api/v1/auth/audit", method = "get", tag = "ApiTags::Accounts")]
    async fn own_audit(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<u32>>,
        #[oai(validator(maximum(value = "1000000")))] offset: Query<Option<u32>>,
    ) -> Result<Json<AuditPage>, Refusal<Own>> {
        let user_id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE);
        let offset = offset.0.unwrap_or(0);
        let events = state
            .audit
            .search(
                &state.db,
                EventQuery {
                    subject: Some(user_id),
                    limit: limit.into(),
                    offset: offset.into(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|err| ApiError::Internal(err.into()))?;
        Ok(Json(page(events, limit, offset)))
    }
}
