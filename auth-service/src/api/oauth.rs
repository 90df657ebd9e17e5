//! RFC 7662 token introspection and RFC 7009 token revocation, for other
//! services (resource servers written in any language). Both take a
//! form-encoded body and client authentication with a configured service
//! client: HTTP Basic (`client_secret_basic`) or `client_id` and
//! `client_secret` in the form (`client_secret_post`). Errors answer the
//! OAuth shape `{error, error_description}`.

use shared::required::Text;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::{Form, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::error::{OAuthError, OAuthFailure, not_the_clients_token};
use crate::accounts::service::Accounts;
use crate::config::ServiceClient;
use crate::state::AppState;
use crate::tokens::oauth::{Revoked, TokenDesk, TokenInfo};
use crate::tokens::service::authenticate;

pub const INTROSPECTION_PATH: &str = "/api/v1/oauth/introspect";
pub const REVOCATION_PATH: &str = "/api/v1/oauth/revoke";

/// A token to introspect or revoke, with the client's credentials.
#[derive(Object, Debug, serde::Deserialize)]
pub struct TokenRequest {
    /// The token: an access token, a refresh token or a service token.
    #[oai(nullable)]
    pub token: Option<Text>,
    /// `access_token` or `refresh_token`; optional, the kind is recognised.
    #[oai(nullable)]
    pub token_type_hint: Option<Text>,
    /// With `client_secret`, instead of HTTP Basic authentication.
    #[oai(nullable)]
    pub client_id: Option<Text>,
    #[oai(nullable)]
    pub client_secret: Option<Text>,
}

/// RFC 7662's answer: `{"active": false}`, or `active` with the token's claims.
#[derive(Object, Debug, Default)]
pub struct Introspection {
    pub active: bool,
    /// `access_token`, `refresh_token` or `service_token`.
    #[oai(skip_serializing_if_is_none)]
    pub token_type: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub sub: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub exp: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub iat: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub iss: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub aud: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub jti: Option<String>,
    /// The session the token belongs to.
    #[oai(skip_serializing_if_is_none)]
    pub sid: Option<String>,
    /// Space-separated scopes (service tokens).
    #[oai(skip_serializing_if_is_none)]
    pub scope: Option<String>,
    /// The client a service token was issued to.
    #[oai(skip_serializing_if_is_none)]
    pub client_id: Option<String>,
    /// `admin` or `user` (access tokens).
    #[oai(skip_serializing_if_is_none)]
    pub role: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub name: Option<String>,
}

impl Introspection {
    fn from_info(info: TokenInfo, issuer: &str) -> Self {
        match info {
            TokenInfo::Inactive => Self::default(),
            TokenInfo::Access(claims) => Self {
                active: true,
                token_type: Some("access_token".into()),
                sub: Some(claims.sub),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                iss: Some(claims.iss),
                aud: Some(claims.aud),
                jti: Some(claims.jti),
                sid: Some(claims.sid),
                role: Some(claims.role.as_str().to_owned()),
                email: claims.email,
                name: claims.name,
                ..Self::default()
            },
            TokenInfo::Service(claims) => Self {
                active: true,
                token_type: Some("service_token".into()),
                sub: Some(claims.sub.clone()),
                client_id: Some(claims.sub),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                iss: Some(claims.iss),
                aud: Some(claims.aud),
                jti: Some(claims.jti),
                scope: Some(claims.scope),
                ..Self::default()
            },
            TokenInfo::Refresh(info) => Self {
                active: true,
                token_type: Some("refresh_token".into()),
                sub: Some(info.user_id.to_string()),
                sid: Some(info.session_id),
                iat: Some(info.issued_at.timestamp()),
                exp: Some(info.expires_at.timestamp()),
                iss: Some(issuer.to_owned()),
                ..Self::default()
            },
        }
    }
}

#[derive(ApiResponse, Debug)]
pub enum RevocationAnswer {
    /// The token no longer works (also answered for unknown tokens).
    #[oai(status = 200)]
    Revoked,
    /// The token is another client's service token.
    #[oai(status = 400)]
    NotYours(Json<OAuthError>),
}

/// The client named by HTTP Basic or by the form, if its secret is right.
fn client<'a>(
    state: &'a AppState,
    req: &Request,
    form: &TokenRequest,
) -> Result<&'a ServiceClient, OAuthFailure> {
    let basic = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    let credentials = basic.or_else(|| {
        form.client_id
            .clone()
            .map(String::from)
            .zip(form.client_secret.clone().map(String::from))
    });
    credentials
        .and_then(|(id, secret)| authenticate(&state.settings.service_clients, &id, &secret))
        .ok_or_else(OAuthFailure::invalid_client)
}

fn token(form: &TokenRequest) -> Result<&str, OAuthFailure> {
    form.token
        .as_deref()
        .filter(|token| !token.is_empty())
        .ok_or_else(OAuthFailure::missing_token)
}

fn desk<'a>(state: &'a AppState, accounts: &'a Accounts<'a>) -> TokenDesk<'a> {
    TokenDesk {
        verifier: state.authenticator.verifier(),
        revocations: &state.revocations,
        sessions: &state.sessions,
        holders: accounts,
    }
}

pub struct OAuthApi;

#[OpenApi(tag = "ApiTags::OAuth")]
impl OAuthApi {
    /// Introspect a token (RFC 7662)
    ///
    /// Answers `{"active": true, ...claims}` for a live access, refresh or
    /// (the calling client's own) service token, and `{"active": false}` for
    /// anything else.
    #[oai(path = "/api/v1/oauth/introspect", method = "post")]
    async fn introspect(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        form: Form<TokenRequest>,
    ) -> Result<Json<Introspection>, OAuthFailure> {
        let client = client(&state, req, &form.0)?;
        let token = token(&form.0)?;
        let accounts = state.accounts();
        let info = desk(&state, &accounts)
            .introspect(&client.id, token)
            .await?;
        Ok(Json(Introspection::from_info(info, &state.public_url)))
    }

    /// Revoke a token (RFC 7009)
    ///
    /// A refresh token ends its whole session; an access token stops working
    /// alone; a service token only at the request of its own client. Unknown
    /// and invalid tokens answer 200 too, as the RFC asks.
    #[oai(path = "/api/v1/oauth/revoke", method = "post")]
    async fn revoke(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        form: Form<TokenRequest>,
    ) -> Result<RevocationAnswer, OAuthFailure> {
        let client = client(&state, req, &form.0)?;
        let token = token(&form.0)?;
        let accounts = state.accounts();
        match desk(&state, &accounts).revoke(&client.id, token).await? {
            Revoked::Done => Ok(RevocationAnswer::Revoked),
            Revoked::NotTheClients => Ok(RevocationAnswer::NotYours(not_the_clients_token())),
        }
    }
}
