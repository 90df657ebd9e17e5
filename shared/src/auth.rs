//! The poem-openapi security scheme every service puts on its protected
//! routes: a bearer access token, verified locally and checked against the
//! revocation store.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::http::header::WWW_AUTHENTICATE;
use poem::{Request, Response};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use serde_json::Value;

use crate::claims::AccessClaims;
use crate::revocation::{RevocationCheck, RevocationError};
use crate::verifier::{TokenVerifier, VerifyError};

/// Why a request was not authenticated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthFailure {
    #[error(transparent)]
    Invalid(#[from] VerifyError),
    #[error(transparent)]
    Revocation(#[from] RevocationError),
}

impl AuthFailure {
    /// True when the token could not be checked (a dependency is down).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            AuthFailure::Invalid(VerifyError::KeysUnavailable)
                | AuthFailure::Revocation(RevocationError::Unavailable)
        )
    }
}

/// A caller whose access token was verified and is not revoked.
#[derive(Debug, Clone)]
pub struct AuthenticatedUser {
    pub claims: AccessClaims,
    /// The raw token, for routes that act on it (logout revokes its `jti`).
    pub token: String,
}

/// Verifies and revocation-checks access tokens; put it in the app's data
/// (`.data(Arc<Authenticator>)`) for [`AccessTokenAuth`] to find.
pub struct Authenticator {
    verifier: TokenVerifier,
    revocations: Arc<dyn RevocationCheck>,
    unauthorized_body: Value,
    unavailable_body: Value,
}

impl Authenticator {
    /// `unauthorized_body` is the JSON answered with 401, in the service's
    /// own error shape; `unavailable_body` the one answered with 503.
    pub fn new(
        verifier: TokenVerifier,
        revocations: Arc<dyn RevocationCheck>,
        unauthorized_body: Value,
        unavailable_body: Value,
    ) -> Self {
        Self {
            verifier,
            revocations,
            unauthorized_body,
            unavailable_body,
        }
    }

    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    pub fn revocations(&self) -> &Arc<dyn RevocationCheck> {
        &self.revocations
    }

    /// Verifies the token and checks it is not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<AuthenticatedUser, AuthFailure> {
        let claims = self.verifier.verify_access(token).await?;
        self.revocations.check(&claims)?;
        Ok(AuthenticatedUser {
            claims,
            token: token.to_owned(),
        })
    }

    /// Verifies a service token and checks it is not revoked.
    pub async fn authenticate_service(
        &self,
        token: &str,
    ) -> Result<crate::claims::ServiceClaims, AuthFailure> {
        let claims = self
            .verifier
            .verify::<crate::claims::ServiceClaims>(token)
            .await?;
        self.revocations.check_token_id(&claims.jti)?;
        Ok(claims)
    }

    /// The answer for a failed authentication: 401 with
    /// `WWW-Authenticate: Bearer`, or 503 when the token could not be checked.
    pub fn rejection(&self, failure: &AuthFailure) -> poem::Error {
        let response = if failure.is_unavailable() {
            json_response(StatusCode::SERVICE_UNAVAILABLE, &self.unavailable_body)
        } else {
            let mut response = json_response(StatusCode::UNAUTHORIZED, &self.unauthorized_body);
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                poem::http::HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            response
        };
        poem::Error::from_response(response)
    }

    /// The 401 answer for a request that carries no token at all.
    pub fn missing_token(&self) -> Response {
        let mut response = json_response(StatusCode::UNAUTHORIZED, &self.unauthorized_body);
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            poem::http::HeaderValue::from_static("Bearer"),
        );
        response
    }
}

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

/// `Authorization: Bearer <access token>`.
#[derive(SecurityScheme)]
#[oai(
    rename = "AccessToken",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "check_access_token"
)]
pub struct AccessTokenAuth(pub AuthenticatedUser);

async fn check_access_token(req: &Request, bearer: Bearer) -> poem::Result<AuthenticatedUser> {
    authenticate_request(req, &bearer.token).await
}

/// The app's [`Authenticator`]; its absence is a wiring mistake (500).
fn authenticator(req: &Request) -> poem::Result<&Arc<Authenticator>> {
    req.data::<Arc<Authenticator>>().ok_or_else(|| {
        tracing::error!("no Authenticator in the app data");
        poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR)
    })
}

/// `access_token: <access token>`, the header seed-000 clients send.
#[derive(SecurityScheme)]
#[oai(
    rename = "AccessTokenHeader",
    ty = "api_key",
    key_name = "access_token",
    key_in = "header",
    checker = "check_access_token_header"
)]
pub struct AccessTokenHeaderAuth(pub AuthenticatedUser);

async fn check_access_token_header(
    req: &Request,
    key: poem_openapi::auth::ApiKey,
) -> poem::Result<AuthenticatedUser> {
    authenticate_request(req, &key.key).await
}

async fn authenticate_request(req: &Request, token: &str) -> poem::Result<AuthenticatedUser> {
    let authenticator = authenticator(req)?;
    authenticator.authenticate(token).await.map_err(|failure| {
        tracing::debug!(reason = %failure, "access token refused");
        authenticator.rejection(&failure)
    })
}

/// An access token from either `Authorization: Bearer` or the `access_token`
/// header. Unlike an enum of schemes, it answers with the failure of the
/// token actually sent (401, or 503 when revocation cannot be checked), and
/// with the service's own 401 body when no token was sent at all.
pub struct AnyAccessToken(pub AuthenticatedUser);

impl<'a> poem_openapi::ApiExtractor<'a> for AnyAccessToken {
    const TYPES: &'static [poem_openapi::ApiExtractorType] =
        &[poem_openapi::ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut poem_openapi::registry::Registry) {
        AccessTokenAuth::register(registry);
        AccessTokenHeaderAuth::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["AccessToken", "AccessTokenHeader"]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut poem::RequestBody,
        _param_opts: poem_openapi::ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let bearer = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            });
        let header = req
            .headers()
            .get("access_token")
            .and_then(|value| value.to_str().ok());
        match bearer
            .or(header)
            .map(str::trim)
            .filter(|token| !token.is_empty())
        {
            Some(token) => authenticate_request(req, token).await.map(AnyAccessToken),
            None => match req.data::<Arc<Authenticator>>() {
                Some(authenticator) => {
                    Err(poem::Error::from_response(authenticator.missing_token()))
                }
                None => Err(poem::Error::from_status(StatusCode::UNAUTHORIZED)),
            },
        }
    }
}

/// `Authorization: Bearer <service token>`: a client of the account manager
/// (another service), not a user. Scopes are checked by the route.
#[derive(SecurityScheme)]
#[oai(
    rename = "ServiceToken",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "check_service_token"
)]
pub struct ServiceTokenAuth(pub crate::claims::ServiceClaims);

async fn check_service_token(
    req: &Request,
    bearer: Bearer,
) -> poem::Result<crate::claims::ServiceClaims> {
    let authenticator = authenticator(req)?;
    authenticator
        .authenticate_service(&bearer.token)
        .await
        .map_err(|failure| authenticator.rejection(&failure))
}
