//! Registration, login and the current user.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use shared::AccessTokenAuth;
use shared::wire::{LoginRequest, ProfileUpdate, RegisterRequest, TokenResponse, UserResponse};

use super::ApiTags;
use super::error::ApiError;
use crate::accounts::RegistrationForm;
use crate::state::AppState;

#[derive(ApiResponse)]
pub enum RegisterResponse {
    /// The account was created; the first session is open.
    #[oai(status = 201)]
    Created(Json<TokenResponse>),
}

pub struct AccountsApi;

impl AccountsApi {
    async fn register(
        state: &AppState,
        body: RegisterRequest,
    ) -> Result<RegisterResponse, ApiError> {
        let form = RegistrationForm {
            email: body.email,
            password: body.password,
            password2: body.password2,
            first_name: body.first_name,
            last_name: body.last_name,
        };
        let grant = state.accounts().register(form).await?;
        Ok(RegisterResponse::Created(Json(super::token_response(
            grant,
        ))))
    }

    async fn login(state: &AppState, body: LoginRequest) -> Result<Json<TokenResponse>, ApiError> {
        let grant = state.accounts().login(body.email, body.password).await?;
        Ok(Json(super::token_response(grant)))
    }
}

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Register with email and password
    ///
    /// The first account ever registered becomes admin.
    #[oai(path = "/api/v1/auth/register/email", method = "post")]
    async fn register_email(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<RegisterRequest>,
    ) -> Result<RegisterResponse, ApiError> {
        Self::register(&state, body.0).await
    }

    /// Register with email and password (seed 004 path)
    #[oai(path = "/api/v1/register/email", method = "post")]
    async fn register_email_v1(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<RegisterRequest>,
    ) -> Result<RegisterResponse, ApiError> {
        Self::register(&state, body.0).await
    }

    /// Log in with email and password
    #[oai(path = "/api/v1/auth/login/email", method = "post")]
    async fn login_email(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<LoginRequest>,
    ) -> Result<Json<TokenResponse>, ApiError> {
        Self::login(&state, body.0).await
    }

    /// Log in with email and password (seed 004 path)
    #[oai(path = "/api/v1/login/email", method = "post")]
    async fn login_email_v1(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<LoginRequest>,
    ) -> Result<Json<TokenResponse>, ApiError> {
        Self::login(&state, body.0).await
    }

    /// The current user
    #[oai(path = "/api/v1/auth/me", method = "get")]
    async fn me(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
    ) -> Result<Json<UserResponse>, ApiError> {
        let id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let account = state
            .accounts()
            .by_id(id)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(Json(super::user_response(account)))
    }

    /// Change the current user's names
    ///
    /// Tokens issued from now on carry the new name.
    #[oai(path = "/api/v1/auth/me", method = "patch")]
    async fn update_me(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
        body: Json<ProfileUpdate>,
    ) -> Result<Json<UserResponse>, ApiError> {
        let id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let account = state
            .accounts()
            .update_names(id, body.0.first_name, body.0.last_name)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(Json(super::user_response(account)))
    }
}
