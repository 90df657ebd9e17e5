//! What other services call: client-credentials service tokens and user
//! look-ups (scope `users:read`).

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use shared::ServiceTokenAuth;

use super::accounts::ApiTags;
use super::error::{ErrorResponse, missing};
use super::http_date;
use crate::error::AppError;
use crate::startup::AppState;
use crate::tokens::authenticate_client;

/// Client credentials of a service.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ServiceTokenRequest {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ServiceTokenResponse {
    /// A JWT with `typ: service`, for `Authorization: Bearer`.
    pub token: String,
    pub token_issued_date: String,
    pub token_expired_date: String,
    /// Space-separated scopes.
    pub scope: String,
}

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
        require_scope(&auth, "users:read")?;
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
        require_scope(&auth, "users:read")?;
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
}
