//! Registration, login, reactivation, disabling, password changes and the
//! current user.

use shared::required::Required;
use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::AccessTokenAuth;
use shared::wire::{
    GoogleLoginRequest, LoginRequest, ProfileUpdate, RegisterRequest, TokenResponse, UserResponse,
};

use shared::connections::while_connected;

use super::error::{ApiError, Confirmed, Field, GoogleSignIn, Own, Refusal, SignIn, SignUp};
use super::{ApiTags, client_info};
use crate::accounts::service::{LoginPurpose, Registered};
use crate::accounts::{AccountError, LoginError, RegistrationForm};
use crate::state::AppState;
use crate::throttle::Rule;
use crate::tokens::sessions::{SessionTerms, TokenGrant};

#[derive(ApiResponse)]
pub enum RegisterResponse {
    /// The account was created; the first session is open.
    #[oai(status = 201)]
    Created(Json<TokenResponse>),
    /// The account was created; it logs in once its email address is
    /// verified (a link is on its way). Only when verification is required.
    #[oai(status = 202)]
    VerificationSent(Json<VerificationSent>),
}

/// A registration that waits for its email address to be verified.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct VerificationSent {
    pub msg: String,
    pub human_msg: String,
    pub user_id: i64,
}

/// The account's password, to confirm disabling it.
#[derive(Object, Debug)]
pub struct DisableRequest {
    pub password: Required<String>,
}

/// A password change: the current password, and the new one twice.
#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct PasswordChange {
    pub current_password: Required<String>,
    pub new_password: Required<String>,
    pub new_password2: Required<String>,
}

#[derive(ApiResponse)]
pub enum Disabled {
    /// The account is disabled; every session and token of it is dead.
    #[oai(status = 204)]
    Done,
}

pub struct AccountsApi;

impl AccountsApi {
    async fn register(
        state: &AppState,
        req: &Request,
        body: RegisterRequest,
    ) -> Result<RegisterResponse, ApiError> {
        let form = RegistrationForm {
            email: body.email.into(),
            username: None,
            password: body.password.into(),
            password2: body.password2.into(),
            first_name: body.first_name.map(String::from),
            last_name: body.last_name.map(String::from),
        };
        super::limit(state, req, Rule::Register).await?;
        let client = client_info(state, req).with_terms(native_terms(state, req).await);
        let accounts = state.accounts();
        let registered = while_connected(req, accounts.register(form, &client)).await;
        match registered.ok_or(ApiError::ClientGone)?? {
            Registered::SignedIn(grant) => Ok(RegisterResponse::Created(Json(
                super::token_response(grant),
            ))),
            Registered::VerificationSent { user_id } => {
                Ok(RegisterResponse::VerificationSent(Json(VerificationSent {
                    msg: "Accepted: Verification email sent.".to_owned(),
                    human_msg: "Check your inbox and follow the link to verify your email address."
                        .to_owned(),
                    user_id,
                })))
            }
        }
    }

    /// A login or reactivation, counted by outcome in `auth_logins_total`.
    async fn login(
        state: &AppState,
        req: &Request,
        body: LoginRequest,
        purpose: LoginPurpose,
    ) -> Result<Json<TokenResponse>, ApiError> {
        let terms = native_terms(state, req).await;
        let grant = sign_in(
            state,
            req,
            body.email.into(),
            body.password.into(),
            purpose,
            terms,
        )
        .await?;
        Ok(Json(super::token_response(grant)))
    }
}

/// The terms of a session a native route opens. A trusted service that
/// signs users in for clients that never refresh (kanban, for seed-000
/// browsers) sends its own service token, with the scope
/// `sessions:extended`, in `Authorization`: those sessions' access tokens
/// get the extended lifetime. Without one (or with one that is not
/// accepted, which is logged) the session is an ordinary one.
async fn native_terms(state: &AppState, req: &Request) -> SessionTerms {
    let Some(token) = super::dialect::bearer(req) else {
        return SessionTerms::default();
    };
    let extended = match state.authenticator.authenticate_service(token).await {
        Ok(service) if service.has_scope(shared::wire::SCOPE_SESSIONS_EXTENDED) => true,
        Ok(service) => {
            tracing::warn!(client = %service.sub, "a sign-in asked for extended sessions without the scope {}", shared::wire::SCOPE_SESSIONS_EXTENDED);
            false
        }
        Err(failure) => {
            tracing::warn!(reason = %failure, "a sign-in carried a service token that was not accepted; ordinary session");
            false
        }
    };
    SessionTerms {
        extended_access: extended,
        ..SessionTerms::default()
    }
}

/// A sign-in with a password, as every dialect's login route makes it: the
/// address's login limit, the (account, address) wrong-password limit,
/// then the login use case. `name` is an email or a username. Counted in
/// the login metrics by outcome.
pub async fn sign_in(
    state: &AppState,
    req: &Request,
    name: Option<String>,
    password: Option<String>,
    purpose: LoginPurpose,
    terms: SessionTerms,
) -> Result<TokenGrant, ApiError> {
    let answer = attempt_sign_in(state, req, name, password, purpose, terms).await;
    let outcome = match &answer {
        Ok(_) => "success",
        Err(ApiError::Login(LoginError::BadCredentials)) => "bad_credentials",
        Err(ApiError::Login(LoginError::CredentialsMissing)) => "missing_credentials",
        Err(ApiError::Login(LoginError::Disabled)) => "disabled",
        Err(ApiError::Login(LoginError::Banned)) => "banned",
        Err(ApiError::Login(LoginError::EmailUnverified)) => "email_unverified",
        Err(ApiError::RateLimited(_)) => "rate_limited",
        Err(ApiError::Busy) => "busy",
        Err(ApiError::ClientGone) => "client_gone",
        Err(_) => "error",
    };
    metrics::counter!(shared::metrics::LOGINS, "outcome" => outcome).increment(1);
    answer
}

async fn attempt_sign_in(
    state: &AppState,
    req: &Request,
    name: Option<String>,
    password: Option<String>,
    purpose: LoginPurpose,
    terms: SessionTerms,
) -> Result<TokenGrant, ApiError> {
    {
        super::limit(state, req, Rule::Login).await?;
        // Wrong passwords count per account and address: guesses from
        // elsewhere never lock the owner out of an address that has not failed.
        let address = super::client_address(state, req);
        let pair = format!(
            "{}|{}",
            name.as_deref().unwrap_or_default().trim().to_lowercase(),
            address.map_or_else(String::new, |address| address.to_string())
        );
        let verdict = state.throttle.check(Rule::LoginFailure, &pair).await;
        super::refused_by(state, req, Rule::LoginFailure, &pair, verdict).await?;
        let client = client_info(state, req).with_terms(terms);
        let accounts = state.accounts();
        let login = accounts.login(name, password, &client, purpose);
        let grant = while_connected(req, login)
            .await
            .ok_or(ApiError::ClientGone)?;
        if let Err(AccountError::Login(LoginError::BadCredentials)) = &grant {
            // Counted: once the limit is reached, the next attempts from
            // this address for this account answer 429 before any hashing.
            let _ = state.throttle.hit(Rule::LoginFailure, &pair).await;
        }
        Ok(grant?)
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
        req: &Request,
        body: Json<RegisterRequest>,
    ) -> Result<RegisterResponse, Refusal<SignUp>> {
        Ok(Self::register(&state, req, body.0).await?)
    }

    /// Register with email and password (seed 004 path)
    #[oai(path = "/api/v1/register/email", method = "post")]
    async fn register_email_v1(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<RegisterRequest>,
    ) -> Result<RegisterResponse, Refusal<SignUp>> {
        Ok(Self::register(&state, req, body.0).await?)
    }

    /// Log in with email and password
    ///
    /// A disabled account answers 401 with a `resolve` link to reactivate,
    /// a banned one 403.
    #[oai(path = "/api/v1/auth/login/email", method = "post")]
    async fn login_email(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<Json<TokenResponse>, Refusal<SignIn>> {
        Ok(Self::login(&state, req, body.0, LoginPurpose::LogIn).await?)
    }

    /// Log in with email and password (seed 004 path)
    #[oai(path = "/api/v1/login/email", method = "post")]
    async fn login_email_v1(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<Json<TokenResponse>, Refusal<SignIn>> {
        Ok(Self::login(&state, req, body.0, LoginPurpose::LogIn).await?)
    }

    /// Sign in with Google
    ///
    /// `{idToken}`: an ID token from Google's sign-in, issued for one of the
    /// configured client ids. The account linked to the Google account signs
    /// in, else the one with the token's (verified) email, which is linked;
    /// else an account without a password is created (the first account ever
    /// is admin). Answers as a password login does (disabled 401, banned 403);
    /// 401 `invalid_google_token` for a token that is not accepted, 409
    /// `google_account_conflict` when the email's account is linked to
    /// another Google account, 501 `google_not_configured` when Google
    /// sign-in is off, 503 when Google's keys cannot be fetched.
    #[oai(path = "/api/v1/auth/login/google", method = "post")]
    async fn login_google(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<GoogleLoginRequest>,
    ) -> Result<Json<TokenResponse>, Refusal<GoogleSignIn>> {
        super::limit(&state, req, Rule::Login).await?;
        let id_token = body
            .0
            .id_token
            .into_inner()
            .filter(|token| !token.trim().is_empty())
            .ok_or(ApiError::Missing(Field::IdToken))?;
        let client = client_info(&state, req).with_terms(native_terms(&state, req).await);
        let accounts = state.accounts();
        let login = accounts.google_login(&id_token, &client);
        let grant = while_connected(req, login)
            .await
            .ok_or(ApiError::ClientGone)??;
        Ok(Json(super::token_response(grant)))
    }

    /// Reactivate a disabled account
    ///
    /// With the account's email and password; answers as a login does (a
    /// banned account stays banned).
    #[oai(path = "/api/v1/auth/reactivate", method = "post")]
    async fn reactivate(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<Json<TokenResponse>, Refusal<SignIn>> {
        Ok(Self::login(&state, req, body.0, LoginPurpose::Reactivate).await?)
    }

    /// Reactivate a disabled account (seed 004 path)
    #[oai(path = "/api/v1/reactivate/email", method = "post")]
    async fn reactivate_email(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<Json<TokenResponse>, Refusal<SignIn>> {
        Ok(Self::login(&state, req, body.0, LoginPurpose::Reactivate).await?)
    }

    /// Disable the current account
    ///
    /// Confirmed with the password. Every session and token of the account
    /// dies; logging in answers 401 until it is reactivated.
    #[oai(path = "/api/v1/auth/disable", method = "post")]
    async fn disable(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: AccessTokenAuth,
        body: Json<DisableRequest>,
    ) -> Result<Disabled, Refusal<Confirmed>> {
        let id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let client = client_info(&state, req);
        state
            .accounts()
            .disable(id, body.0.password.into(), &client)
            .await?;
        Ok(Disabled::Done)
    }

    /// Change the password
    ///
    /// Every session of the account ends; the answer is a fresh one.
    #[oai(path = "/api/v1/auth/password", method = "post")]
    async fn change_password(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: AccessTokenAuth,
        body: Json<PasswordChange>,
    ) -> Result<Json<TokenResponse>, Refusal<Confirmed>> {
        let id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let change = body.0;
        let client = client_info(&state, req);
        let accounts = state.accounts();
        let changed = accounts.change_password(
            id,
            change.current_password.into(),
            change.new_password.into(),
            change.new_password2.into(),
            &client,
        );
        let grant = while_connected(req, changed)
            .await
            .ok_or(ApiError::ClientGone)??;
        Ok(Json(super::token_response(grant)))
    }

    /// The current user
    #[oai(path = "/api/v1/auth/me", method = "get")]
    async fn me(
        &self,
        state: Data<&Arc<AppState>>,
        auth: AccessTokenAuth,
    ) -> Result<Json<UserResponse>, Refusal<Own>> {
        let id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let account = state
            .accounts()
            .current(id)
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
    ) -> Result<Json<UserResponse>, Refusal<Own>> {
        let id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        let account = state
            .accounts()
            .update_names(
                id,
                body.0.first_name.map(String::from),
                body.0.last_name.map(String::from),
            )
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(Json(super::user_response(account)))
    }
}
