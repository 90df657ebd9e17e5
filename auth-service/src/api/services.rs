//! What other services call: client-credentials service tokens, user
//! look-ups (scope `users:read`) and the revocation feed (scope
//! `revocations:read`).

use shared::required::Required;
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use shared::ServiceTokenAuth;
use shared::wire::{
    RevocationFeedPage, SCOPE_REVOCATIONS_READ, SCOPE_USERS_READ, ServiceTokenRequest,
    ServiceTokenResponse, UserSummary,
};

use super::error::{ApiError, ClientCredentials, Field, Refusal, Service};
use super::{ApiTags, http_date, user_summary};
use crate::state::AppState;
use crate::tokens;

/// Most ids one look-up answers for.
const MAX_IDS: usize = 200;

fn require_scope(auth: &ServiceTokenAuth, scope: &'static str) -> Result<(), ApiError> {
    if auth.0.has_scope(scope) {
        Ok(())
    } else {
        Err(ApiError::MissingScope(scope))
    }
}

/// `1, 2,3` as ids; at most [`MAX_IDS`].
fn parse_ids(ids: &str) -> Result<Vec<i64>, ApiError> {
    let parsed: Vec<i64> = ids
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::InvalidIds)?;
    if parsed.len() > MAX_IDS {
        return Err(ApiError::TooManyIds(MAX_IDS));
    }
    Ok(parsed)
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
    ) -> Result<Json<ServiceTokenResponse>, Refusal<ClientCredentials>> {
        let (Some(client_id), Some(secret)) = (
            body.0.client_id.into_inner(),
            body.0.client_secret.into_inner(),
        ) else {
            return Err(ApiError::Missing(Field::ClientCredentials).into());
        };
        let issued = tokens::service::issue(
            &state.settings.service_clients,
            &state.issuer,
            &client_id,
            &secret,
            state.settings.tokens.service_ttl,
        )?;
        Ok(Json(ServiceTokenResponse {
            token: issued.token.token,
            token_issued_date: http_date(issued.token.issued_at),
            token_expired_date: http_date(issued.token.expires_at),
            scope: issued.scope,
        }))
    }

    /// Look a user up by email (scope `users:read`)
    #[oai(path = "/api/v1/users/lookup", method = "get")]
    async fn lookup(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ServiceTokenAuth,
        email: Query<Required<String>>,
    ) -> Result<Json<UserSummary>, Refusal<Service>> {
        require_scope(&auth, SCOPE_USERS_READ)?;
        let Some(email) = email.0.into_inner() else {
            return Err(ApiError::Missing(Field::Email).into());
        };
        let account = state
            .accounts()
            .by_email(&email)
            .await?
            .ok_or(ApiError::UserNotFound)?;
        Ok(Json(user_summary(account)))
    }

    /// Users by id (scope `users:read`)
    ///
    /// `ids` is a comma-separated list of at most 200 ids; unknown ids are left out.
    #[oai(path = "/api/v1/users", method = "get")]
    async fn users(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ServiceTokenAuth,
        #[oai(validator(pattern = r"^ *[0-9]{1,18} *(, *[0-9]{1,18} *)*$"))] ids: Query<
            Required<String>,
        >,
    ) -> Result<Json<Vec<UserSummary>>, Refusal<Service>> {
        require_scope(&auth, SCOPE_USERS_READ)?;
        let Some(ids) = ids.0.into_inner() else {
            return Err(ApiError::Missing(Field::Ids).into());
        };
        let accounts = state.accounts().by_ids(&parse_ids(&ids)?).await?;
        Ok(Json(accounts.into_iter().map(user_summary).collect()))
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
    ) -> Result<Json<RevocationFeedPage>, Refusal<Service>> {
        require_scope(&auth, SCOPE_REVOCATIONS_READ)?;
        let wait = std::time::Duration::from_millis(wait_ms.0.unwrap_or(0));
        let batch = state
            .feed
            .page(generation.0.as_deref(), after.0, wait)
            .await
            .map_err(|err| ApiError::Internal(err.into()))?;
        Ok(Json(RevocationFeedPage {
            generation: batch.cursor.generation,
            cursor: batch.cursor.position,
            reset: batch.reset,
            facts: batch.facts,
        }))
    }
}
