//! Seed 002, the Laravel dialect: every answer is the envelope
//! `{data, message, errors, code}` with the HTTP status equal to `code`.
//! `/api/v1/login`, `/api/v1/register`, `/api/v1/logout`,
//! `/api/v1/token/refresh`, `/api/v1/password/email` and
//! `/api/v1/password/reset`, over the same accounts and sessions as every
//! other dialect. Validation failures are 422 with Laravel's sentences.

use shared::required::Required;
use std::collections::BTreeMap;
use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use shared::connections::while_connected;

use super::dialect::{self, Fields, Malformed, NotText, bearer};
use super::error::ApiError;
use super::{ApiTags, accounts, client_info, tokens};
use crate::accounts::service::{LoginPurpose, Registered};
use crate::accounts::{
    Email, LoginError, MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
    RegistrationError, RegistrationForm,
};
use crate::audit::{Event, EventKind};
use crate::state::AppState;
use crate::throttle::Rule;
use crate::tokens::sessions::{SessionTerms, TokenGrant};

type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Object, Debug)]
#[oai(rename = "Seed002LoginForm")]
pub struct LoginForm {
    pub email: Required<String>,
    pub password: Required<String>,
}

#[derive(Object, Debug)]
#[oai(rename = "Seed002RegisterForm")]
pub struct RegisterForm {
    pub name: Required<String>,
    pub email: Required<String>,
    pub password: Required<String>,
    pub password_confirmation: Required<String>,
}

/// The refresh token of the session to end with the bearer's.
#[derive(Object, Debug)]
#[oai(rename = "Seed002LogoutForm")]
pub struct LogoutForm {
    #[oai(nullable)]
    pub token: Option<String>,
}

#[derive(Object, Debug)]
#[oai(rename = "Seed002RefreshForm")]
pub struct RefreshForm {
    pub refresh_token: Required<String>,
}

#[derive(Object, Debug)]
#[oai(rename = "Seed002ResetLinkForm")]
pub struct ResetLinkForm {
    pub email: Required<String>,
}

#[derive(Object, Debug)]
#[oai(rename = "Seed002ResetForm")]
pub struct ResetForm {
    pub token: Required<String>,
    pub email: Required<String>,
    pub password: Required<String>,
    pub password_confirmation: Required<String>,
}

/// A token pair: the access token (a JWT every service verifies) and the
/// refresh token (opaque, rotated at each refresh).
#[derive(Object, Debug)]
#[oai(rename = "Seed002TokenData")]
pub struct TokenData {
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    pub access_token: String,
    pub refresh_token: String,
}

/// The envelope of a token answer.
#[derive(Object, Debug)]
#[oai(rename = "Seed002TokenEnvelope")]
pub struct TokenEnvelope {
    pub data: TokenData,
    pub message: String,
    pub errors: FieldErrors,
    pub code: u16,
}

/// The envelope of an answer whose data is a flag (`true`) or null.
#[derive(Object, Debug)]
#[oai(rename = "Seed002DoneEnvelope")]
pub struct DoneEnvelope {
    #[oai(nullable)]
    pub data: Option<bool>,
    pub message: String,
    pub errors: FieldErrors,
    pub code: u16,
}

/// The envelope of a refusal: `data` is null, `errors` per field (422).
#[derive(Object, Debug)]
#[oai(rename = "Seed002ErrorEnvelope")]
pub struct ErrorEnvelope {
    pub code: u16,
    #[oai(nullable)]
    pub data: Option<bool>,
    pub message: String,
    pub errors: FieldErrors,
}

#[derive(ApiResponse)]
pub enum TokenAnswer {
    #[oai(status = 200)]
    Ok(Json<TokenEnvelope>),
}

#[derive(ApiResponse)]
pub enum DoneAnswer {
    #[oai(status = 200)]
    Ok(Json<DoneEnvelope>),
}

/// How seed-002 routes refuse (documents the answers of [`Refused`]).
#[derive(ApiResponse)]
#[allow(dead_code)]
pub enum Refusals {
    /// A body that is not JSON or a form.
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Wrong credentials, an invalid refresh token, a missing or invalid
    /// bearer token, a disabled account.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// A banned account, or one whose email is not verified yet.
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// Fields missing or invalid, per field.
    #[oai(status = 422)]
    Invalid(Json<ErrorEnvelope>),
    /// Over a rate limit (`Retry-After` says when to try again).
    #[oai(status = 429)]
    Throttled(Json<ErrorEnvelope>),
    #[oai(status = 500)]
    Internal(Json<ErrorEnvelope>),
    /// Sign-ins are saturated, or revocations cannot be checked now.
    #[oai(status = 503)]
    Unavailable(Json<ErrorEnvelope>),
}

/// A seed-002 refusal, ready to send.
pub type Refused = dialect::Refused<Refusals>;

type Result<T> = std::result::Result<T, Refused>;

const NO_MATCH: &str = "These credentials do not match our records.";

fn refuse(code: u16, message: &str, errors: FieldErrors) -> Refused {
    let body = json!({"code": code, "data": null, "message": message, "errors": errors});
    Refused::json(code, body)
}

fn invalid(field: &str, message: impl Into<String>) -> Refused {
    refuse(
        422,
        "The given data was invalid.",
        BTreeMap::from([(field.to_owned(), vec![message.into()])]),
    )
}

/// Laravel's name of a field in its sentences.
fn spoken(field: &str) -> String {
    field.replace('_', " ")
}

/// The named fields, each required and text; 422 with every missing one.
fn required<S>(body: &Fields<S>, names: &[&str]) -> Result<Vec<String>> {
    if let Err(malformed) = &body.fields {
        let why = match malformed {
            Malformed::Unparsable => "The request body is not valid JSON.",
            Malformed::NotAnObject => "The request body must be a JSON object.",
        };
        return Err(refuse(400, why, FieldErrors::new()));
    }
    let mut values = Vec::new();
    let mut errors = FieldErrors::new();
    for name in names {
        match body.text(name) {
            Ok(Some(value)) if !value.trim().is_empty() => {
                values.push(value);
                continue;
            }
            Ok(_) => {
                errors.insert(
                    (*name).to_owned(),
                    vec![format!("The {} field is required.", spoken(name))],
                );
            }
            Err(NotText) => {
                errors.insert(
                    (*name).to_owned(),
                    vec![format!("The {} must be a string.", spoken(name))],
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(refuse(422, "The given data was invalid.", errors))
    }
}

fn fields<const N: usize, S>(body: &Fields<S>, names: [&str; N]) -> Result<[String; N]> {
    required(body, &names)?
        .try_into()
        .map_err(|_| refuse(500, "Server Error", FieldErrors::new()))
}

/// An email field in Laravel's words when it is not an address.
fn email(value: &str) -> Result<Email> {
    Email::parse(value).map_err(|_| invalid("email", "The email must be a valid email address."))
}

fn registration(err: RegistrationError) -> Refused {
    use RegistrationError::*;
    match err {
        EmailTaken | UsernameTaken => invalid("email", "The email has already been taken."),
        EmailMissing => invalid("email", "The email field is required."),
        PasswordMissing => invalid("password", "The password field is required."),
        ConfirmationMissing | PasswordsDiffer => {
            invalid("password", "The password confirmation does not match.")
        }
        EmailTooLong => invalid(
            "email",
            format!("The email may not be greater than {MAX_EMAIL_CHARS} characters."),
        ),
        EmailInvalid | UsernameInvalid | UsernameTooLong => {
            invalid("email", "The email must be a valid email address.")
        }
        PasswordTooShort => invalid(
            "password",
            format!("The password must be at least {MIN_PASSWORD_CHARS} characters."),
        ),
        PasswordTooLong => invalid(
            "password",
            format!("The password may not be greater than {MAX_PASSWORD_CHARS} characters."),
        ),
        PasswordUnprintable => invalid("password", "The password format is invalid."),
        PasswordTooCommon => invalid(
            "password",
            "The given password has appeared in a data leak. Please choose a different password.",
        ),
        NameTooLong => invalid(
            "name",
            format!("The name may not be greater than {MAX_NAME_CHARS} characters."),
        ),
    }
}

/// Any refusal of the shared API edge, in seed 002's envelope.
impl From<ApiError> for Refused {
    fn from(err: ApiError) -> Refused {
        let none = FieldErrors::new;
        let words = |err| {
            Ok(match err {
                ApiError::Registration(err) => registration(err),
                ApiError::Login(LoginError::Disabled) => {
                    refuse(401, "This account is disabled.", none())
                }
                ApiError::Login(LoginError::Banned) => {
                    refuse(403, "This account is suspended.", none())
                }
                ApiError::Login(LoginError::EmailUnverified) => {
                    refuse(403, "Your email address is not verified.", none())
                }
                ApiError::Login(LoginError::BadCredentials | LoginError::CredentialsMissing)
                | ApiError::InvalidRefreshToken => refuse(401, NO_MATCH, none()),
                ApiError::Unauthenticated => refuse(401, "Unauthenticated.", none()),
                ApiError::InvalidLinkToken => {
                    invalid("token", "This password reset token is invalid.")
                }
                ApiError::RateLimited(exceeded) => refuse(
                    429,
                    &format!(
                        "Too many attempts. Please try again in {} seconds.",
                        exceeded.retry_after.as_secs().max(1)
                    ),
                    none(),
                ),
                ApiError::Busy => {
                    refuse(503, "Too many sign-ins at once; try again shortly.", none())
                }
                ApiError::Unavailable => refuse(503, "Service Unavailable", none()),
                ApiError::ClientGone => refuse(400, "The client closed the connection.", none()),
                ApiError::Internal(err) => {
                    tracing::error!(error = %err, "request failed");
                    refuse(500, "Server Error", none())
                }
                other => return Err(other),
            })
        };
        Refused::of(err, words, |status, reason| refuse(status, reason, none()))
    }
}

/// The paths of seed 002's routes.
pub const PATHS: &[&str] = &[
    "/api/v1/login",
    "/api/v1/register",
    "/api/v1/logout",
    "/api/v1/token/refresh",
    "/api/v1/password/email",
    "/api/v1/password/reset",
];

/// A refusal the framework made itself, in seed 002's envelope.
pub fn framework_refusal(status: poem::http::StatusCode) -> poem::Response {
    use poem::IntoResponse;
    refuse(
        status.as_u16(),
        dialect::framework_reason(status),
        FieldErrors::new(),
    )
    .into_response()
}

fn token_answer(grant: TokenGrant) -> TokenAnswer {
    let expires_in = grant.access.expires_at - grant.access.issued_at;
    TokenAnswer::Ok(Json(TokenEnvelope {
        data: TokenData {
            token_type: "Bearer".to_owned(),
            expires_in,
            access_token: grant.access.token,
            refresh_token: grant.refresh_token,
        },
        message: String::new(),
        errors: FieldErrors::new(),
        code: 200,
    }))
}

fn done(message: &str, data: Option<bool>) -> DoneAnswer {
    DoneAnswer::Ok(Json(DoneEnvelope {
        data,
        message: message.to_owned(),
        errors: FieldErrors::new(),
        code: 200,
    }))
}

pub struct LaravelApi;

#[OpenApi(tag = "ApiTags::Seed002")]
impl LaravelApi {
    /// Log in with email and password (seed 002)
    #[oai(path = "/api/v1/login", method = "post")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<LoginForm>,
    ) -> Result<TokenAnswer> {
        let [address, password] = fields(&body, ["email", "password"])?;
        let address = email(&address)?;
        let grant = accounts::sign_in(
            &state,
            req,
            Some(address.into_string()),
            Some(password),
            LoginPurpose::LogIn,
            SessionTerms::default(),
        )
        .await?;
        Ok(token_answer(grant))
    }

    /// Register (seed 002)
    ///
    /// `name`, `email`, `password` and `password_confirmation`; answers the
    /// first session's tokens (or 202 and a verification mail when
    /// verification is required).
    #[oai(path = "/api/v1/register", method = "post")]
    async fn register(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<RegisterForm>,
    ) -> Result<RegisterAnswer> {
        let [name, address, password, confirmation] = fields(
            &body,
            ["name", "email", "password", "password_confirmation"],
        )?;
        let form = RegistrationForm {
            email: Some(address),
            username: None,
            password: Some(password),
            password2: Some(confirmation),
            first_name: Some(name),
            last_name: None,
        };
        super::limit(&state, req, Rule::Register).await?;
        let client = client_info(&state, req);
        let accounts = state.accounts();
        let registered = while_connected(req, accounts.register(form, &client)).await;
        let registered = registered
            .ok_or(ApiError::ClientGone)?
            .map_err(ApiError::from)?;
        Ok(match registered {
            Registered::SignedIn(grant) => match token_answer(grant) {
                TokenAnswer::Ok(envelope) => RegisterAnswer::Ok(envelope),
            },
            Registered::VerificationSent { .. } => {
                RegisterAnswer::VerificationSent(Json(DoneEnvelope {
                    data: None,
                    message: "We have e-mailed your verification link!".to_owned(),
                    errors: FieldErrors::new(),
                    code: 202,
                }))
            }
        })
    }

    /// Log out (seed 002)
    ///
    /// `Authorization: Bearer <access token>`; ends its session, and the
    /// session of the refresh token in `token` when one is given.
    #[oai(path = "/api/v1/logout", method = "post")]
    async fn logout(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<LogoutForm>,
    ) -> Result<DoneAnswer> {
        // The body is optional, but one that is sent must be an object,
        // and a `token` in it a string.
        required(&body, &[])?;
        let token_sent = body
            .fields
            .as_ref()
            .ok()
            .and_then(|fields| fields.get("token"));
        let not_a_string = token_sent.is_some_and(|token| !(token.is_string() || token.is_null()));
        if not_a_string || body.text("token").is_err() {
            let errors = FieldErrors::from([(
                "token".to_owned(),
                vec!["The token must be a string.".to_owned()],
            )]);
            return Err(refuse(422, "The given data was invalid.", errors));
        }
        let token = bearer(req).ok_or(ApiError::Unauthenticated)?;
        let user = match state.authenticator.authenticate(token).await {
            Ok(user) => user,
            Err(failure) if failure.is_unavailable() => return Err(ApiError::Unavailable.into()),
            Err(_) => return Err(ApiError::Unauthenticated.into()),
        };
        state
            .sessions
            .logout(&user.claims)
            .await
            .map_err(ApiError::from)?;
        if let Ok(Some(refresh)) = body.text("token")
            && !refresh.is_empty()
        {
            // Only a refresh token of the same user ends another session.
            let same_user = state
                .sessions
                .refresh_info(&refresh, &state.accounts())
                .await
                .ok()
                .flatten()
                .is_some_and(|info| Some(info.user_id) == user.claims.user_id());
            if same_user {
                let _ = state.sessions.end_by_refresh_token(&refresh).await;
            }
        }
        let event = Event::new(EventKind::Logout)
            .by(user.claims.user_id())
            .on(user.claims.user_id());
        let origin = client_info(&state, req).origin();
        state.audit.record_now(&state.db, event, &origin).await;
        Ok(done("Logout success.", None))
    }

    /// Exchange a refresh token for a new pair (seed 002)
    #[oai(path = "/api/v1/token/refresh", method = "post")]
    async fn refresh(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<RefreshForm>,
    ) -> Result<TokenAnswer> {
        let [refresh] = fields(&body, ["refresh_token"])?;
        let grant = tokens::refresh_grant(&state, req, &refresh, SessionTerms::default()).await?;
        Ok(token_answer(grant))
    }

    /// Mail a password-reset link (seed 002)
    ///
    /// The same answer whether or not the address has an account.
    #[oai(path = "/api/v1/password/email", method = "post")]
    async fn reset_link(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<ResetLinkForm>,
    ) -> Result<DoneAnswer> {
        let [address] = fields(&body, ["email"])?;
        let address = email(&address)?;
        super::limit(&state, req, Rule::Recovery).await?;
        let client = client_info(&state, req);
        state
            .accounts()
            .forgot_password(Some(address.into_string()), &client)
            .await
            .map_err(ApiError::from)?;
        Ok(done(
            "We have e-mailed your password reset link!",
            Some(true),
        ))
    }

    /// Set a new password with a reset link's token (seed 002)
    #[oai(path = "/api/v1/password/reset", method = "post")]
    async fn reset(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Fields<ResetForm>,
    ) -> Result<DoneAnswer> {
        let [token, address, password, confirmation] = fields(
            &body,
            ["token", "email", "password", "password_confirmation"],
        )?;
        email(&address)?;
        let client = client_info(&state, req);
        let accounts = state.accounts();
        let reset =
            accounts.reset_password(Some(token), Some(password), Some(confirmation), &client);
        while_connected(req, reset)
            .await
            .ok_or(ApiError::ClientGone)?
            .map_err(ApiError::from)?;
        Ok(done("Your password has been reset!", Some(true)))
    }
}

#[derive(ApiResponse)]
pub enum RegisterAnswer {
    /// The account exists; its first session is open.
    #[oai(status = 200)]
    Ok(Json<TokenEnvelope>),
    /// The account exists and logs in once its email is verified.
    #[oai(status = 202)]
    VerificationSent(Json<DoneEnvelope>),
}
