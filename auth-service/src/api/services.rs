//! What other services call: client-credentials service tokens, user
//! look-ups (scope `users:read`) and the revocation feed (scope
//! `revocations:read`).

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use shared::ServiceTokenAuth;
use shared::wire::{
    RevocationFeedPage, SCOPE_REVOCATIONS_READ, SCOPE_USERS_READ, ServiceTokenRequest,
    ServiceTokenResponse,
};

use super::ApiTags;
use super::error::{ErrorResponse, missing};
use super::http_date;
use crate::error::AppError;
use crate::state::AppState;
use crate::tokens::authenticate_client;

/// What other services may know of a user.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct UserSummary {
    pub id: i64,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub status: String,
}

impl From<crate::entity::user::Model> for UserSummary {
    fn from(user: crate::entity::user::Model) -> Self {
        Self {
            id: user.id,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
            status: user.status,
        }
    }
}

/// Most ids one look-up answers for.
const MAX_IDS: usize = 200;

fn require_scope(auth: &ServiceTokenAuth, scope: &'static str) -> Result<(), AppError> {
    if auth.0.has_scope(scope) {
        Ok(())
    } else {
        Err(AppError::MissingScope(scope))
    }
}

pub struct ServicesApi;

#[OpenApi(tag = "ApiTags::Services")]
impl ServicesApi {
    /// Get a service token (client credentials)
    #[oai(path = "/api/v1/auth/token/service", method = "post")]
    async fn service_token(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<ServiceTokenRequest>,
    ) -> Result<Json<ServiceTokenResponse>, ErrorResponse> {
        let (Some(client_id), Some(secret)) = (body.0.client_id, body.0.client_secret) else {
            return Err(missing(
                "clientId or clientSecret",
                "Client credentials are required.",
            ));
        };
        let client = authenticate_client(&state.settings.service_clients, &client_id, &secret)
            .ok_or(AppError::InvalidClient)?;
        let issued = state
            .issuer
            .service_token(
                &client.id,
                &client.scopes,
                state.settings.tokens.service_ttl,
            )
            .map_err(AppError::Internal)?;
        Ok(Json(ServiceTokenResponse {
            token: issued.token,
            token_issued_date: http_date(issued.issued_at),
            token_expired_date: http_date(issued.expires_at),
            scope: client.scopes.join(" "),
        }))
    }

    /// Look a user up by email (scope `users:read`)
    #[oai(path = "/api/v1/users/lookup", method = "get")]
    async fn lookup(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ServiceTokenAuth,
        email: Query<Option<String>>,
    ) -> Result<Json<UserSummary>, ErrorResponse> {
        require_scope(&auth, SCOPE_USERS_READ)?;
        let Some(email) = email.0 else {
            return Err(missing("email", "An email is required."));
        };
        let user = state
            .accounts()
            .user_by_email(&email)
            .await?
            .ok_or(AppError::UserNotFound)?;
        Ok(Json(user.into()))
    }

    /// Users by id (scope `users:read`)
    ///
    /// `ids` is a comma-separated list of at most 200 ids; unknown ids are left out.
    #[oai(path = "/api/v1/users", method = "get")]
    async fn users(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ServiceTokenAuth,
        ids: Query<Option<String>>,
    ) -> Result<Json<Vec<UserSummary>>, ErrorResponse> {
        require_scope(&auth, SCOPE_USERS_READ)?;
        let Some(ids) = ids.0 else {
            return Err(missing("ids", "User ids are required."));
        };
        let parsed: Result<Vec<i64>, _> = ids
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::parse)
            .collect();
        let Ok(parsed) = parsed else {
            return Err(ErrorResponse::BadRequest(Json(
                shared::error::ErrorBody::new(
                    "Bad Request: ids must be comma-separated integers.",
                    "Those user ids are not valid.",
                ),
            )));
        };
        if parsed.len() > MAX_IDS {
            return Err(ErrorResponse::BadRequest(Json(
                shared::error::ErrorBody::new(
                    format!("Bad Request: At most {MAX_IDS} ids per request."),
                    "Too many users asked for at once.",
                ),
            )));
        }
        let users = state.accounts().users(&parsed).await?;
        Ok(Json(users.into_iter().map(UserSummary::from).collect()))
    }

    /// Revocation facts (scope `revocations:read`)
    ///
    /// Without `generation` and `after`: every live fact, `reset: true` (a
    /// snapshot). With the `generation` and `cursor` (as `after`) of the
    /// previous answer: the facts recorded since, waiting up to `waitMs`
    /// milliseconds (at most 25 000) for one to arrive; an empty answer
    /// means none did. A `generation` that is not the current one answers a
    /// snapshot again. Verifiers keep the facts in memory and refuse tokens
    /// they name: `token` (by `jti`), `session` (by `sid`), `notBefore`
    /// (tokens of user `subject` issued before `at`), `keyRevoked` (by
    /// `kid`); `keysChanged` means the JWKS changed.
    #[oai(path = "/api/v1/revocations/feed", method = "get")]
    async fn revocation_feed(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ServiceTokenAuth,
        generation: Query<Option<String>>,
        after: Query<Option<i64>>,
        #[oai(name = "waitMs", validator(maximum(value = "25000")))] wait_ms: Query<Option<u64>>,
    ) -> Result<Json<RevocationFeedPage>, ErrorResponse> {
        require_scope(&auth, SCOPE_REVOCATIONS_READ)?;
        let wait = std::time::Duration::from_millis(wait_ms.0.unwrap_or(0));
        let batch = state
            .feed
            .page(generation.0.as_deref(), after.0, wait)
            .await
            .map_err(|err| AppError::Internal(err.into()))?;
        Ok(Json(RevocationFeedPage {
            generation: batch.cursor.generation,
            cursor: batch.cursor.position,
            reset: batch.reset,
            facts: batch.facts,
        }))
    }
}
