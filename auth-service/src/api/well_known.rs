use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use super::ApiTags;
use super::oauth::{INTROSPECTION_PATH, REVOCATION_PATH};
use crate::state::AppState;
use crate::tokens::keys::ALGORITHM;

/// The OpenID Provider metadata this service can honestly claim.
#[derive(Object, Debug)]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub jwks_uri: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub revocation_endpoint: String,
    /// RFC 7662 token introspection (form body, client authentication).
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub claims_supported: Vec<String>,
}

pub struct WellKnownApi;

/// How clients authenticate at the introspection and revocation endpoints.
const CLIENT_AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post"];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

#[OpenApi(tag = "ApiTags::WellKnown")]
impl WellKnownApi {
    /// The public keys that verify access tokens (JWKS)
    #[oai(path = "/.well-known/jwks.json", method = "get")]
    async fn jwks(&self, state: Data<&Arc<AppState>>) -> Json<Value> {
        Json(state.keys.jwks())
    }

    /// OpenID Connect discovery document
    #[oai(path = "/.well-known/openid-configuration", method = "get")]
    async fn openid_configuration(&self, state: Data<&Arc<AppState>>) -> Json<OpenIdConfiguration> {
        let base = &state.public_url;
        Json(OpenIdConfiguration {
            issuer: base.clone(),
            jwks_uri: format!("{base}/.well-known/jwks.json"),
            token_endpoint: format!("{base}/api/v1/auth/token/refresh"),
            userinfo_endpoint: format!("{base}/api/v1/auth/me"),
            revocation_endpoint: format!("{base}{REVOCATION_PATH}"),
            introspection_endpoint: format!("{base}{INTROSPECTION_PATH}"),
            revocation_endpoint_auth_methods_supported: strings(CLIENT_AUTH_METHODS),
            introspection_endpoint_auth_methods_supported: strings(CLIENT_AUTH_METHODS),
            grant_types_supported: strings(&["password", "refresh_token"]),
            response_types_supported: strings(&["token"]),
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: strings(&[ALGORITHM]),
            token_endpoint_auth_methods_supported: strings(&["none"]),
            claims_supported: strings(&[
                "iss", "aud", "sub", "exp", "iat", "jti", "sid", "role", "email", "name", "typ",
            ]),
        })
    }
}
