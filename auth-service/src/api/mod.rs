//! The HTTP surface: thin poem-openapi handlers over the domain modules.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod dialect;
pub mod error;
pub mod health;
pub mod laravel;
pub mod oauth;
pub mod recovery;
pub mod services;
pub mod sessions;
pub mod simplejwt;
pub mod tokens;
pub mod well_known;
pub mod xaccess;

use std::sync::Arc;

use poem::Endpoint;
use poem_openapi::{OpenApiService, Tags};
use shared::wire::{TokenResponse, UserResponse, UserSummary};

use crate::accounts::Account;
use crate::audit::{Event, EventKind};
use crate::state::AppState;
use crate::tokens::sessions::{ClientInfo, TokenGrant};

/// The client's address: the peer's, or what a trusted proxy says it is
/// (see [`crate::throttle::client_address`]).
pub fn client_address(state: &AppState, req: &poem::Request) -> Option<std::net::IpAddr> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    crate::throttle::client_address(
        req.remote_addr()
            .as_socket_addr()
            .map(|address| address.ip()),
        header("x-forwarded-for"),
        header("forwarded"),
        &state.settings.trusted_proxies,
    )
}

/// Where a request comes from, as the client says (shown to users in
/// their session list).
pub fn client_info(state: &AppState, req: &poem::Request) -> ClientInfo {
    let user_agent = req
        .headers()
        .get(poem::http::header::USER_AGENT)
        .and_then(|agent| agent.to_str().ok());
    let ip = client_address(state, req).map(|address| address.to_string());
    let request_id = req
        .extensions()
        .get::<shared::telemetry::RequestId>()
        .map(|id| id.0.clone());
    ClientInfo::new(user_agent, ip).with_request_id(request_id)
}

/// Counts the request against `rule` for the client's address.
pub async fn limit(
    state: &AppState,
    req: &poem::Request,
    rule: crate::throttle::Rule,
) -> Result<(), error::ApiError> {
    let key = client_address(state, req).map_or_else(String::new, |address| address.to_string());
    let hit = state.throttle.hit(rule, &key).await;
    refused_by(state, req, rule, &key, hit).await
}

/// A rate limit's verdict as the API answers it; the first refusal of a
/// client in a window is audited (not every refused request of a flood).
pub async fn refused_by<T>(
    state: &AppState,
    req: &poem::Request,
    rule: crate::throttle::Rule,
    key: &str,
    verdict: Result<T, crate::throttle::Exceeded>,
) -> Result<T, error::ApiError> {
    match verdict {
        Ok(value) => Ok(value),
        Err(limited) => {
            let name = rule.name();
            if state
                .audit
                .first_trip(&format!("{name}|{key}"), limited.retry_after)
            {
                let event = Event::new(EventKind::RateLimited).detail(name);
                let origin = client_info(state, req).origin();
                state.audit.record_now(&state.db, event, &origin).await;
            }
            Err(error::ApiError::RateLimited(limited))
        }
    }
}

#[derive(Tags)]
pub enum ApiTags {
    /// Registration, login and the current user.
    Accounts,
    /// Refresh, validation and logout.
    Tokens,
    /// Administration.
    Admin,
    /// For other services: service tokens, user look-ups, the revocation feed.
    Services,
    /// OAuth 2.0 token introspection (RFC 7662) and revocation (RFC 7009).
    OAuth,
    /// Discovery documents and signing keys.
    WellKnown,
    /// Liveness and readiness.
    Health,
    /// Seed 001: the simplejwt dialect (`/auth/...`).
    Seed001,
    /// Seed 002: the Laravel dialect (`{data, message, errors, code}`).
    Seed002,
    /// Seed 003: the `X-Access-Token` dialect (`/login`, `/api/v1/user/...`).
    Seed003,
}

type Apis = (
    accounts::AccountsApi,
    recovery::RecoveryApi,
    tokens::TokensApi,
    sessions::SessionsApi,
    services::ServicesApi,
    oauth::OAuthApi,
    admin::AdminApi,
    audit::AuditApi,
    simplejwt::SimpleJwtApi,
    laravel::LaravelApi,
    xaccess::XAccessApi,
    well_known::WellKnownApi,
    health::HealthApi,
);

pub fn openapi(public_url: &str) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            accounts::AccountsApi,
            recovery::RecoveryApi,
            tokens::TokensApi,
            sessions::SessionsApi,
            services::ServicesApi,
            oauth::OAuthApi,
            admin::AdminApi,
            audit::AuditApi,
            simplejwt::SimpleJwtApi,
            laravel::LaravelApi,
            xaccess::XAccessApi,
            well_known::WellKnownApi,
            health::HealthApi,
        ),
        "Account manager",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Users, credentials, sessions and signing keys. Errors answer `{msg, humanMsg, resolve?, code?}`.",
    )
    .server(public_url)
}

/// What the document cannot read off the handlers' types: the event types
/// the audit filter takes, and the credentials the dialect routes read
/// themselves (to refuse in their own shapes).
fn document_additions(document: &mut serde_json::Value) {
    use serde_json::json;
    use shared::openapi::{operation, parameter};
    let kinds: Vec<&str> = crate::audit::EventKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    if let Some(kind) =
        operation(document, "/api/v1/admin/audit", "get").and_then(|audit| parameter(audit, "type"))
    {
        kind["schema"]["enum"] = json!(kinds);
    }
    if let Some(schemes) = document
        .pointer_mut("/components/securitySchemes")
        .and_then(|schemes| schemes.as_object_mut())
    {
        schemes.insert(
            "XAccessToken".to_owned(),
            json!({
                "type": "apiKey",
                "in": "header",
                "name": "X-Access-Token",
                "description": "`X-Access-Token: <access token>`, the header seed-003 clients send."
            }),
        );
    }
    let credentials = [
        ("/api/v1/user", "get", json!([{"XAccessToken": []}])),
        // Logging out needs the access token or the refresh token.
        ("/login", "delete", json!([{"XAccessToken": []}, {}])),
        (
            "/api/v1/user/login",
            "delete",
            json!([{"XAccessToken": []}, {}]),
        ),
        ("/auth/getuser", "get", json!([{"AccessToken": []}])),
        ("/api/v1/logout", "post", json!([{"AccessToken": []}])),
    ];
    for (path, method, security) in credentials {
        if let Some(route) = operation(document, path, method) {
            route["security"] = security;
        }
    }
    // Text lengths, as the account rules count them.
    use crate::accounts::lifecycle::MAX_BAN_REASON_CHARS;
    use crate::accounts::{
        MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
    };
    let password = json!({"minLength": MIN_PASSWORD_CHARS, "maxLength": MAX_PASSWORD_CHARS});
    let lengths = [
        (
            "RegisterRequest",
            "email",
            json!({"maxLength": MAX_EMAIL_CHARS}),
        ),
        ("RegisterRequest", "password", password.clone()),
        ("RegisterRequest", "password2", password.clone()),
        (
            "RegisterRequest",
            "firstName",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        (
            "RegisterRequest",
            "lastName",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        (
            "ProfileUpdate",
            "firstName",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        (
            "ProfileUpdate",
            "lastName",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        ("PasswordChange", "newPassword", password.clone()),
        ("PasswordChange", "newPassword2", password.clone()),
        ("ResetRequest", "password", password.clone()),
        ("ResetRequest", "password2", password),
        (
            "UserUpdate",
            "reason",
            json!({"maxLength": MAX_BAN_REASON_CHARS}),
        ),
    ];
    for (schema, property, rule) in lengths {
        shared::openapi::refine_property(document, schema, property, rule);
    }
    // Seed 002's logout reads the bearer token; the body may name the
    // session's refresh token too.
    if let Some(body) =
        operation(document, "/api/v1/logout", "post").and_then(|route| route.get_mut("requestBody"))
    {
        body["required"] = json!(false);
    }
}

/// The OpenAPI document as served at `/openapi.json` (see
/// [`shared::openapi::complete`]).
pub fn document(public_url: &str) -> String {
    shared::openapi::complete(&openapi(public_url).spec(), Some(document_additions))
}

/// The whole app: routes, docs, limits, CORS, security headers, error
/// bodies, request logs.
pub fn app(state: Arc<AppState>) -> impl Endpoint {
    let options = shared::http::HttpOptions {
        max_body_bytes: state.settings.max_body_bytes,
        cors: state.settings.cors.clone(),
        hsts: state.public_url.starts_with("https://"),
        metrics: state.settings.metrics.then(|| {
            let state = state.clone();
            shared::metrics::Scrape::new(move || {
                shared::metrics::scrape_common(
                    shared::RevocationCheck::is_current(state.revocations.set().as_ref()),
                    shared::db::pool_size(&state.db),
                );
            })
        }),
        wording: Some(dialect_wording()),
        document: Some(document_additions),
    };
    let public_url = state.public_url.clone();
    let api = move || openapi(&public_url);
    shared::http::app(api, state.clone(), state.authenticator.clone(), &options)
}

/// The seed dialect whose routes are at `path`, as the refusals the
/// framework makes itself (a wrong method, a body over the limit) are
/// worded there: a dialect's client never meets another dialect's shape.
pub fn dialect_wording() -> shared::http::Wording {
    shared::http::Wording::new(|path, status| {
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        if simplejwt::PATHS.contains(&path) {
            Some(simplejwt::framework_refusal(status))
        } else if laravel::PATHS.contains(&path) {
            Some(laravel::framework_refusal(status))
        } else if xaccess::PATHS.contains(&path) {
            Some(xaccess::framework_refusal(status))
        } else if [oauth::INTROSPECTION_PATH, oauth::REVOCATION_PATH].contains(&path) {
            Some(error::oauth_framework_refusal(status))
        } else {
            None
        }
    })
}

/// `Tue, 15 Nov 1994 08:12:31 GMT` for a unix time.
pub fn http_date(unix_seconds: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds.max(0) as u64);
    httpdate::fmt_http_date(at)
}

/// A login's, registration's or refresh's grant as the token answer.
pub fn token_response(grant: TokenGrant) -> TokenResponse {
    TokenResponse {
        token: grant.access.token,
        token_issued_date: http_date(grant.access.issued_at),
        token_expired_date: http_date(grant.access.expires_at),
        user_id: grant.user_id,
        refresh_token: grant.refresh_token,
        refresh_token_expired_date: http_date(grant.refresh_expires_at.timestamp()),
    }
}

/// The current user's answer.
pub fn user_response(account: Account) -> UserResponse {
    UserResponse {
        id: account.id,
        email: account.email,
        username: account.username,
        first_name: account.first_name,
        last_name: account.last_name,
        role: account.role.as_str().to_owned(),
        status: account.status.as_str().to_owned(),
        email_verified: account.email_verified,
        created_at: account.created_at,
    }
}

/// What other services may know of an account.
pub fn user_summary(account: Account) -> UserSummary {
    UserSummary {
        id: account.id,
        email: account.email,
        first_name: account.first_name,
        last_name: account.last_name,
        status: account.status.as_str().to_owned(),
    }
}
