//! seed 000's register, login and google-login (answered by the account
//! manager, in seed 000's shapes), and the current user.

use std::sync::Arc;

use chrono::Utc;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::AnyAccessToken;

use super::error::ErrorResponse;
use super::views::Message;
use super::{ApiTags, caller};
use crate::boards::{check_registration, display_name, profile_picture};
use crate::error::KanbanError;
use crate::state::AppState;

#[derive(Object)]
pub struct RegisterBody {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

#[derive(Object, Debug)]
pub struct Registered {
    pub id: i64,
    pub email: String,
}

#[derive(ApiResponse)]
pub enum RegisterAnswer {
    /// The account was created at the account manager.
    #[oai(status = 201)]
    Created(Json<Registered>),
}

#[derive(Object)]
pub struct LoginBody {
    pub email: Option<String>,
    pub password: Option<String>,
}

#[derive(Object)]
pub struct LoginAnswer {
    /// The account manager's access token.
    pub access_token: String,
    /// Exchange at the account manager's `/api/v1/auth/token/refresh`.
    pub refresh_token: String,
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub profile_picture: String,
}

#[derive(Object)]
pub struct GoogleLoginBody {
    pub google_access_token: Option<String>,
}

#[derive(Object, Debug)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub profile_picture: String,
}

#[derive(Object, Debug)]
pub struct UserUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

pub struct UsersApi;

#[OpenApi(tag = "ApiTags::Users")]
impl UsersApi {
    /// Register (seed 000)
    #[oai(path = "/register", method = "post")]
    async fn register(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<RegisterBody>,
    ) -> Result<RegisterAnswer, ErrorResponse> {
        let RegisterBody {
            first_name,
            last_name,
            email,
            password,
        } = body.0;
        let (first, last) = (
            first_name.unwrap_or_default(),
            last_name.unwrap_or_default(),
        );
        let (email, password) = (email.unwrap_or_default(), password.unwrap_or_default());
        check_registration(&first, &last, &email, &password)?;
        let (first, last, email) = (first.trim(), last.trim(), email.trim().to_lowercase());
        let id = state
            .accounts
            .register(first, last, &email, &password)
            .await?;
        let name = format!("{first} {last}");
        state
            .boards
            .remember_user(id, Some(email.clone()), name, Utc::now())
            .await?;
        Ok(RegisterAnswer::Created(Json(Registered { id, email })))
    }

    /// Log in (seed 000)
    #[oai(path = "/login", method = "post")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<LoginBody>,
    ) -> Result<Json<LoginAnswer>, ErrorResponse> {
        let (Some(email), Some(password)) = (body.0.email, body.0.password) else {
            return Err(KanbanError::WrongCredentials.into());
        };
        let tokens = state.accounts.login(&email, &password).await?;
        let account = state.accounts.me(&tokens.token).await?;
        let name = account.name();
        state
            .boards
            .remember_user(account.id, account.email.clone(), name.clone(), Utc::now())
            .await?;
        let shown = display_name(&name, account.email.as_deref());
        let username = account.username.clone().unwrap_or_else(|| {
            account
                .email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .unwrap_or_default()
                .to_owned()
        });
        Ok(Json(LoginAnswer {
            access_token: tokens.token,
            refresh_token: tokens.refresh_token,
            id: account.id,
            username,
            email: account.email,
            first_name: account.first_name,
            last_name: account.last_name,
            profile_picture: profile_picture(&shown),
        }))
    }

    /// Log in with Google (seed 000)
    ///
    /// Answers 501 until the account manager verifies Google ID tokens.
    #[oai(path = "/google-login", method = "post")]
    async fn google_login(
        &self,
        _body: Json<GoogleLoginBody>,
    ) -> Result<Json<Message>, ErrorResponse> {
        Err(KanbanError::NotImplemented("Google login is not available yet").into())
    }

    /// The current user
    #[oai(path = "/user", method = "get")]
    async fn user(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
    ) -> Result<Json<CurrentUser>, ErrorResponse> {
        let id = caller(&auth.0)?;
        let known = state.boards.user(id).await?;
        let (name, email) = match known {
            Some(user) => (user.name, user.email),
            None => (
                auth.0.claims.name.clone().unwrap_or_default(),
                auth.0.claims.email.clone(),
            ),
        };
        let name = display_name(&name, email.as_deref());
        Ok(Json(CurrentUser {
            id,
            profile_picture: profile_picture(&name),
            name,
            email,
        }))
    }

    /// Change the current user's names
    ///
    /// Changed at the account manager, so every frontend sees the new name.
    #[oai(path = "/user", method = "patch")]
    async fn update_user(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
        body: Json<UserUpdate>,
    ) -> Result<Json<CurrentUser>, ErrorResponse> {
        let id = caller(&auth.0)?;
        let UserUpdate {
            first_name,
            last_name,
        } = body.0;
        for (label, value) in [("First name", &first_name), ("Second name", &last_name)] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(KanbanError::Invalid(format!("{label} is required")).into());
            }
        }
        let account = state
            .accounts
            .update_names(&auth.0.token, first_name.as_deref(), last_name.as_deref())
            .await?;
        let name = account.name();
        state
            .boards
            .remember_user(id, account.email.clone(), name.clone(), Utc::now())
            .await?;
        let name = display_name(&name, account.email.as_deref());
        Ok(Json(CurrentUser {
            id,
            profile_picture: profile_picture(&name),
            name,
            email: account.email,
        }))
    }
}
