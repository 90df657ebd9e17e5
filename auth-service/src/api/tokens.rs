//! Refresh, validation and logout.

use shared::required::Required;
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use shared::{AccessClaims, AccessTokenAuth};

use shared::wire::TokenResponse;

use poem::Request;

use super::error::{ApiError, Field, Own, Refusal, SignIn, Validation};
use super::{ApiTags, client_info};
use crate::accounts::AccountError;
use crate::audit::{Event, EventKind};
use crate::state::AppState;
use crate::throttle::Rule;
use crate::tokens::sessions::{RefreshError, SessionTerms, TokenGrant};

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct RefreshRequest {
    pub refresh_token: Required<String>,
}

#[derive(Object)]
pub struct ValidateRequest {
    pub token: Required<String>,
}

/// The claims of a valid access token.
#[derive(Object, Debug)]
pub struct TokenClaims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub sid: String,
    pub role: String,
    #[oai(nullable)]
    pub email: Option<String>,
    #[oai(nullable)]
    pub name: Option<String>,
}

impl From<AccessClaims> for TokenClaims {
    fn from(claims: AccessClaims) -> Self {
        Self {
            sub: claims.sub,
            iss: claims.iss,
            aud: claims.aud,
            exp: claims.exp,
            iat: claims.iat,
            jti: claims.jti,
            sid: claims.sid,
            role: claims.role.as_str().to_owned(),
            email: claims.email,
            name: claims.name,
        }
    }
}

#[derive(Object, Debug)]
#[oai(rename_all = "camelCase")]
pub struct ValidateResponse {
    pub is_valid: bool,
    /// Present when the token is valid.
    #[oai(skip_serializing_if_is_none)]
    pub claims: Option<TokenClaims>,
}

#[derive(ApiResponse)]
pub enum LoggedOut {
    /// The session is over.
    #[oai(status = 204)]
    Done,
}

pub struct TokensApi;

/// A refresh as every dialect's refresh route makes it: the address's
/// refresh limit, then the rotation (`terms` say whether the client can
/// take a new refresh token).
pub async fn refresh_grant(
    state: &AppState,
    req: &poem::Request,
    token: &str,
    terms: SessionTerms,
) -> Result<TokenGrant, ApiError> {
    if let Err(err) = super::limit(state, req, Rule::Refresh).await {
        count_refresh("rate_limited");
        return Err(err);
    }
    let client = super::client_info(state, req).with_terms(terms);
    let grant = state.accounts().refresh(token, &client).await;
    count_refresh(match &grant {
        Ok(_) => "ok",
        Err(AccountError::Refresh(RefreshError::Reused { .. })) => "reuse_detected",
        Err(AccountError::Refresh(RefreshError::Unavailable) | AccountError::Unavailable) => {
            "unavailable"
        }
        Err(AccountError::Refresh(RefreshError::Internal(_)) | AccountError::Internal(_)) => {
            "error"
        }
        Err(_) => "refused",
    });
    Ok(grant?)
}

fn count_refresh(outcome: &'static str) {
    metrics::counter!(shared::metrics::REFRESHES, "outcome" => outcome).increment(1);
}

#[OpenApi(tag = "ApiTags::Tokens")]
impl TokensApi {
    /// Exchange a refresh token for a new token pair
    ///
    /// The presented refresh token is rotated. Presenting a rotated token
    /// again ends the whole session, except within a short grace window
    /// where a retry from the same client (same user agent and address)
    /// gets the same pair.
    #[oai(path = "/api/v1/auth/token/refresh", method = "post")]
    async fn refresh(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        body: Json<RefreshRequest>,
    ) -> Result<Json<TokenResponse>, Refusal<SignIn>> {
        let Some(token) = body.0.refresh_token.into_inner().filter(|t| !t.is_empty()) else {
            super::limit(&state, req, Rule::Refresh).await?;
            count_refresh("refused");
            return Err(ApiError::Missing(Field::RefreshToken).into());
        };
        let grant = refresh_grant(&state, req, &token, SessionTerms::default()).await?;
        Ok(Json(super::token_response(grant)))
    }

    /// Check an access token
    ///
    /// Answers `isValid: false` for a bad, expired or revoked token, and 503
    /// when revocation cannot be checked.
    #[oai(path = "/api/v1/auth/token/validate", method = "post")]
    async fn validate(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<ValidateRequest>,
    ) -> Result<Json<ValidateResponse>, Refusal<Validation>> {
        let Some(token) = body.0.token.into_inner().filter(|t| !t.trim().is_empty()) else {
            return Err(ApiError::Missing(Field::Token).into());
        };
        match state.authenticator.authenticate(&token).await {
            Ok(user) => Ok(Json(ValidateResponse {
                is_valid: true,
                claims: Some(user.claims.into()),
            })),
            Err(failure) if failure.is_unavailable() => Err(ApiError::Unavailable.into()),
            Err(_) => Ok(Json(ValidateResponse {
                is_valid: false,
                claims: None,
            })),
        }
    }

    /// Log out: end this session
    ///
    /// The access token and every token of its session stop working.
    #[oai(path = "/api/v1/auth/logout", method = "post")]
    async fn logout(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: AccessTokenAuth,
    ) -> Result<LoggedOut, Refusal<Own>> {
        state.sessions.logout(&auth.0.claims).await?;
        let event = Event::new(EventKind::Logout)
            .by(auth.0.claims.user_id())
            .on(auth.0.claims.user_id());
        let origin = client_info(&state, req).origin();
        state.audit.record_now(&state.db, event, &origin).await;
        Ok(LoggedOut::Done)
    }

    /// Log out everywhere: end every session of the user
    #[oai(path = "/api/v1/auth/logout/all", method = "post")]
    async fn logout_all(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: AccessTokenAuth,
    ) -> Result<LoggedOut, Refusal<Own>> {
        let user_id = auth.0.claims.user_id().ok_or(ApiError::Unauthenticated)?;
        state.sessions.logout_all(user_id).await?;
        let event = Event::own(EventKind::LogoutAll, user_id);
        let origin = client_info(&state, req).origin();
        state.audit.record_now(&state.db, event, &origin).await;
        Ok(LoggedOut::Done)
    }
}
