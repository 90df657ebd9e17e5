use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use shared::AccessTokenAuth;

use super::error::ErrorResponse;
use super::http_date;
use crate::accounts::RegistrationForm;
use crate::error::AppError;
use crate::state::AppState;
use crate::tokens::sessions::TokenGrant;

/// seed 004 Register body.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct RegisterRequest {
    /// 255 characters at most.
    pub email: Option<String>,
    /// 6 or more characters.
    pub password: Option<String>,
    /// Must match `password`.
    pub password2: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Object)]
pub struct LoginRequest {
    pub email: Option<String>,
    pub password: Option<String>,
}

/// seed 004's token answer, plus the refresh token.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct TokenResponse {
    /// The access token (a JWT) for `Authorization: Bearer`.
    pub token: String,
    /// HTTP date, UTC.
    pub token_issued_date: String,
    /// HTTP date, UTC.
    pub token_expired_date: String,
    pub user_id: i64,
    /// Exchange at `/api/v1/auth/token/refresh`; rotated on every use.
    pub refresh_token: String,
    /// HTTP date, UTC.
    pub refresh_token_expired_date: String,
}

impl From<TokenGrant> for TokenResponse {
    fn from(grant: TokenGrant) -> Self {
        Self {
            token: grant.access.token,
            token_issued_date: http_date(grant.access.issued_at),
            token_expired_date: http_date(grant.access.expires_at),
            user_id: grant.user_id,
            refresh_token: grant.refresh_token,
            refresh_token_expired_date: http_date(grant.refresh_expires_at.timestamp()),
        }
    }
}

#[derive(ApiResponse)]
pub enum RegisterResponse {
    /// The account was created; the first session is open.
    #[oai(status = 201)]
    Created(Json<TokenResponse>),
}

#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct UserResponse {
    pub id: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// `admin` or `user`.
    pub role: String,
    /// `active`, `disabled` or `banned`.
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<crate::entity::user::Model> for UserResponse {
    fn from(user: crate::entity::user::Model) -> Self {
        Self {
            id: user.id,
            email: user.email,
            username: user.username,
            first_name: user.first_name,
            last_name: user.last_name,
            role: user.role,
            status: user.status,
            created_at: user.created_at,
        }
    }
}

/// The names to change; absent fields stay as they are.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct ProfileUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

pub struct AccountsApi;

impl AccountsApi {
    async fn register(
        state: &AppState,
        body: RegisterRequest,
    ) -> Result<RegisterResponse, ErrorResponse> {
        let form = RegistrationForm {
            email: body.email,
            password: body.password,
            password2: body.password2,
            first_name: body.first_name,
            last_name: body.last_name,
        };
        let grant = state.accounts().register(form).await?;
        Ok(RegisterResponse::Created(Json(grant.into())))
    }

    async fn login(
        state: &AppState,
        body: LoginRequest,
    ) -> Result<Json<TokenResponse>, ErrorResponse> {
        let grant = state.accounts().login(body.email, body.password).await?;
        Ok(Json(grant.into()))
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
    ) -> Result<RegisterResponse, ErrorResponse> {
        Self::register(&state, body.0).await
    }

    /// Register with email and password (seed 004 path)
    #[oai(path = "/api/v1/register/email", method = "post")]
    async fn register_email_v1(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<RegisterRequest>,
    ) -> Result<RegisterResponse, ErrorResponse> {
        Self::register(&state, body.0).await
    }

    /// Log in with email and password
    #[oai(path = "/api/v1/auth/login/email", method = "post")]
    async fn login_email(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<LoginRequest>,
    ) -> Result<Json<TokenResponse>, ErrorResponse> {
        Self::login(&state, body.0).await
    }

    /// Log in with email and password (seed 004 path)
    #[oai(path = "/api/v1/login/email", method = "post")]
    async fn login_email_v1(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<LoginRequest>,
    ) -> Result<Json<TokenResponse>, ErrorResponse> {
        Self::login(&state, body.0).await
    }

    /// The current user
    #[oai(path = "/api/v1/auth/me", method = "get")]
    async fn me(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
    ) -> Result<Json<UserResponse>, ErrorResponse> {
        let id = auth.0.claims.user_id().ok_or(AppError::Unauthenticated)?;
        let user = state
            .accounts()
            .user(id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(Json(user.into()))
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
    ) -> Result<Json<UserResponse>, ErrorResponse> {
        let id = auth.0.claims.user_id().ok_or(AppError::Unauthenticated)?;
        let user = state
            .accounts()
            .update_names(id, body.0.first_name, body.0.last_name)
            .await?;
        Ok(Json(user.into()))
    }
}
