//! seed 000's register, login and google-login (answered by the account
//! manager, in seed 000's shapes), and the current user.

use shared::required::{NonBlank, Required};
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::AnyAccessToken;

use super::error::ErrorResponse;
use super::error::{OwnAccount, Refusal, Registration, SignIn};
use super::{ApiTags, caller};
use crate::accounts::{Bearer, Client, Profile, SignedIn};
use crate::avatars::Avatars;
use crate::error::KanbanError;
use crate::state::AppState;

#[derive(Object)]
#[oai(example)]
pub struct RegisterBody {
    pub first_name: Required<String>,
    pub last_name: Required<String>,
    pub email: Required<String>,
    pub password: Required<String>,
}

impl poem_openapi::types::Example for RegisterBody {
    fn example() -> Self {
        // Seed 000's example.
        Self {
            first_name: Required(Some("John".to_owned())),
            last_name: Required(Some("Doe".to_owned())),
            email: Required(Some("johndoe@mail.com".to_owned())),
            password: Required(Some("johndoe".to_owned())),
        }
    }
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
#[oai(example)]
pub struct LoginBody {
    pub email: Required<String>,
    pub password: Required<String>,
}

impl poem_openapi::types::Example for LoginBody {
    fn example() -> Self {
        // Seed 000's example.
        Self {
            email: Required(Some("user@gmail.com".to_owned())),
            password: Required(Some("user".to_owned())),
        }
    }
}

#[derive(Object)]
pub struct LoginAnswer {
    /// The account manager's access token.
    pub access_token: String,
    /// Exchange at the account manager's `/api/v1/auth/token/refresh`.
    pub refresh_token: String,
    pub id: i64,
    pub username: String,
    #[oai(nullable)]
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// The avatar's absolute URL: kanban's `/avatars/…` (or the configured
    /// external service's).
    pub profile_picture: String,
}

#[derive(Object)]
pub struct GoogleLoginBody {
    pub google_access_token: Required<String>,
}

/// seed 000's Google login answer.
#[derive(Object)]
pub struct GoogleLoginAnswer {
    /// The account manager's access token.
    pub access_token: String,
}

#[derive(Object, Debug)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    #[oai(nullable)]
    pub email: Option<String>,
    /// The avatar's absolute URL: kanban's `/avatars/…` (or the configured
    /// external service's).
    pub profile_picture: String,
}

#[derive(Object, Debug)]
pub struct UserUpdate {
    #[oai(nullable)]
    pub first_name: Option<NonBlank>,
    #[oai(nullable)]
    pub last_name: Option<NonBlank>,
}

/// Who the account manager serves through kanban: the caller's address,
/// user agent, and this request's id.
fn client_of(req: &poem::Request) -> Client {
    Client {
        request_id: req
            .extensions()
            .get::<shared::telemetry::RequestId>()
            .map(|id| id.0.clone()),
        address: req
            .remote_addr()
            .as_socket_addr()
            .map(|address| address.ip()),
        user_agent: req
            .headers()
            .get(poem::http::header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok())
            .map(str::to_owned),
    }
}

pub struct UsersApi;

#[OpenApi(tag = "ApiTags::Users")]
impl UsersApi {
    /// Register (seed 000)
    #[oai(path = "/register", method = "post")]
    async fn register(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        body: Json<RegisterBody>,
    ) -> Result<RegisterAnswer, Refusal<Registration>> {
        let RegisterBody {
            first_name,
            last_name,
            email,
            password,
        } = body.0;
        let (id, email) = state
            .accounts()
            .register(
                first_name.as_deref().unwrap_or_default(),
                last_name.as_deref().unwrap_or_default(),
                email.as_deref().unwrap_or_default(),
                password.as_deref().unwrap_or_default(),
                &client_of(req),
            )
            .await?;
        Ok(RegisterAnswer::Created(Json(Registered { id, email })))
    }

    /// Log in (seed 000)
    #[oai(path = "/login", method = "post")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        body: Json<LoginBody>,
    ) -> Result<Json<LoginAnswer>, Refusal<SignIn>> {
        let (Some(email), Some(password)) =
            (body.0.email.into_inner(), body.0.password.into_inner())
        else {
            return Err(KanbanError::WrongCredentials.into());
        };
        let signed_in = state
            .accounts()
            .login(&email, &password, &client_of(req))
            .await?;
        let SignedIn {
            tokens,
            account,
            username,
            shown_name,
        } = signed_in;
        Ok(Json(LoginAnswer {
            access_token: tokens.token,
            refresh_token: tokens.refresh_token,
            id: account.id,
            username,
            email: account.email,
            first_name: account.first_name,
            last_name: account.last_name,
            profile_picture: state.avatars.url(&shown_name),
        }))
    }

    /// Log in with Google (seed 000)
    ///
    /// `google_access_token` carries the ID token of Google's sign-in (as
    /// seed 000's client sends it); verified by the account manager, which
    /// links or creates the account. Answers seed 000's `{access_token}`.
    #[oai(path = "/google-login", method = "post")]
    async fn google_login(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        body: Json<GoogleLoginBody>,
    ) -> Result<Json<GoogleLoginAnswer>, Refusal<SignIn>> {
        let id_token = body.0.google_access_token.into_inner().unwrap_or_default();
        let signed_in = state
            .accounts()
            .google_login(&id_token, &client_of(req))
            .await?;
        Ok(Json(GoogleLoginAnswer {
            access_token: signed_in.tokens.token,
        }))
    }

    /// The current user
    #[oai(path = "/user", method = "get")]
    async fn user(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AnyAccessToken,
    ) -> Result<Json<CurrentUser>, Refusal<OwnAccount>> {
        let profile = state.accounts().profile(&bearer(&auth)?).await?;
        Ok(Json(CurrentUser::new(profile, &state.avatars)))
    }

    /// Change the current user's names
    ///
    /// Changed at the account manager, so every frontend sees the new name.
    #[oai(path = "/user", method = "patch")]
    async fn update_user(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: AnyAccessToken,
        body: Json<UserUpdate>,
    ) -> Result<Json<CurrentUser>, Refusal<OwnAccount>> {
        let UserUpdate {
            first_name,
            last_name,
        } = body.0;
        let profile = state
            .accounts()
            .rename(
                &bearer(&auth)?,
                first_name.as_deref(),
                last_name.as_deref(),
                &client_of(req),
            )
            .await?;
        Ok(Json(CurrentUser::new(profile, &state.avatars)))
    }
}

/// Who the token speaks for.
fn bearer(auth: &AnyAccessToken) -> Result<Bearer<'_>, ErrorResponse> {
    let claims = &auth.0.claims;
    Ok(Bearer {
        id: caller(&auth.0)?,
        name: claims.name.as_deref(),
        email: claims.email.as_deref(),
        token: &auth.0.token,
    })
}

impl CurrentUser {
    fn new(profile: Profile, avatars: &Avatars) -> Self {
        Self {
            id: profile.id,
            profile_picture: avatars.url(&profile.shown_name),
            name: profile.shown_name,
            email: profile.email,
        }
    }
}
