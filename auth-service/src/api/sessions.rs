//! The current user's sessions: list them, end one, end all others.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::AccessTokenAuth;

use poem::Request;

use super::error::{ApiError, Own, Refusal};
use super::{ApiTags, client_info};
use crate::state::AppState;
use crate::tokens::sessions::SessionInfo;

/// A live session: one login on one device.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct SessionView {
    pub id: String,
    pub created_at: DateTime<Utc>,
    /// When the session last exchanged its refresh token (or was opened).
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless refreshed.
    pub expires_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub user_agent: Option<String>,
    /// The address it was opened from.
    #[oai(skip_serializing_if_is_none)]
    pub ip_address: Option<String>,
    /// Whether this is the session of the token that asked.
    pub current: bool,
}

pub fn session_view(session: SessionInfo, current: Option<&str>) -> SessionView {
    SessionView {
        current: current == Some(session.id.as_str()),
        id: session.id,
        created_at: session.created_at,
        last_used_at: session.last_used_at,
        expires_at: session.expires_at,
        user_agent: session.user_agent,
        ip_address: session.ip_address,
    }
}

#[derive(ApiResponse)]
pub enum Ended {
    /// The session (or sessions) ended; their tokens stop working everywhere.
    #[oai(status = 204)]
    Done,
}

pub struct SessionsApi;

#[OpenApi(tag = "ApiTags::Tokens")]
impl SessionsApi {
    /// The current user's live sessions
    #[oai(path = "/api/v1/auth/sessions", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
    ) -> Result<Json<Vec<SessionView>>, Refusal<Own>> {
        let id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let sessions = state.accounts().sessions_of(id).await?;
        let current = Some(auth.0.claims.sid.as_str());
        Ok(Json(
            sessions
                .into_iter()
                .map(|session| session_view(session, current))
                .collect(),
        ))
    }

    /// End one of the current user's sessions
    #[oai(path = "/api/v1/auth/sessions/:id", method = "delete")]
    async fn end_one(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: AccessTokenAuth,
        id: Path<String>,
    ) -> Result<Ended, Refusal<Own>> {
        let user_id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let client = client_info(&state, req);
        state
            .accounts()
            .end_session_of(user_id, &id.0, user_id, &client)
            .await?;
        Ok(Ended::Done)
    }

    /// End every session of the current user but this one
    #[oai(path = "/api/v1/auth/sessions", method = "delete")]
    async fn end_others(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: AccessTokenAuth,
    ) -> Result<Ended, Refusal<Own>> {
        let user_id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let client = client_info(&state, req);
        state
            .accounts()
            .end_sessions_of(user_id, Some(&auth.0.claims.sid), user_id, &client)
            .await?;
        Ok(Ended::Done)
    }
}
