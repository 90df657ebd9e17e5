//! The HTTP surface: seed 000's routes as thin poem-openapi handlers.

pub mod avatars;
pub mod boards;
pub mod card_budget;
pub mod error;
pub mod health;
pub mod invitations;
pub mod kept_lists;
pub mod tasks;
pub mod users;
pub mod views;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::Endpoint;
use poem_openapi::{OpenApiService, Tags};
use shared::AuthenticatedUser;

use self::error::ErrorResponse;
use crate::boards::{Actor, Page};
use crate::state::AppState;

#[derive(Tags)]
pub enum ApiTags {
    /// Registration and login (forwarded to the account manager), the current user.
    Users,
    /// Organizations, their members and the invitations their admins send.
    Organizations,
    /// The caller's invitations to organizations: list, accept, decline.
    Invitations,
    /// Categories (the board's columns) and tags.
    Categories,
    /// Tasks, their assignees and tags.
    Tasks,
    /// The pictures `profile_picture` points at: initials drawn by kanban, no token needed.
    Avatars,
    /// Liveness and readiness.
    Health,
}

/// Most items one list answer carries; `offset` pages through the rest.
pub const MAX_LIMIT: u64 = 1000;
/// The largest `offset` a list accepts (the routes' validators say the same;
/// larger ones answer 400).
pub const MAX_OFFSET: u64 = 1_000_000;

pub fn page(limit: Option<u64>, offset: Option<u64>) -> Page {
    Page {
        limit: limit.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT),
        offset: offset.unwrap_or(0).min(MAX_OFFSET),
    }
}

/// The caller's user id.
pub fn caller(auth: &AuthenticatedUser) -> Result<i64, ErrorResponse> {
    auth.claims.user_id().ok_or_else(|| {
        ErrorResponse::Unauthorized(poem_openapi::payload::Json(
            shared::error::ErrorBody::msg_only(error::AUTHENTICATION_FAILED),
        ))
    })
}

/// The caller as their token describes them, for the use-cases that show
/// the caller to others (they record it; nothing is written here).
pub fn acting_user(auth: &AuthenticatedUser) -> Result<Actor, ErrorResponse> {
    Ok(Actor {
        id: caller(auth)?,
        email: auth.claims.email.clone(),
        name: auth.claims.name.clone().unwrap_or_default(),
        as_of: DateTime::<Utc>::from_timestamp(auth.claims.iat, 0).unwrap_or_else(Utc::now),
    })
}

type Apis = (
    users::UsersApi,
    boards::OrganizationsApi,
    invitations::InvitationsApi,
    boards::CategoriesApi,
    tasks::TasksApi,
    avatars::AvatarsApi,
    health::HealthApi,
);

pub fn openapi(public_url: &str) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            users::UsersApi,
            boards::OrganizationsApi,
            invitations::InvitationsApi,
            boards::CategoriesApi,
            tasks::TasksApi,
            avatars::AvatarsApi,
            health::HealthApi,
        ),
        "Kanban",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Boards: organizations, members (by invitation), categories, tags and tasks. Send the account manager's access token as \
         `Authorization: Bearer <token>` or `access_token: <token>`. Errors answer `{\"msg\": ...}`. Lists take \
         `limit` (at most 1000, the default) and `offset`, and give the total in `X-Total-Count`.",
    )
    .server(public_url)
}

/// What the document cannot read off the handlers' types (which check
/// these rules themselves, to word their refusals): text lengths, a tag's
/// colour (`#RRGGBB`), a member's role, and the instants answers carry.
fn document_additions(document: &mut serde_json::Value) {
    use crate::boards::{
        MAX_DESCRIPTION_CHARS, MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_TITLE_CHARS, MIN_PASSWORD_CHARS,
    };
    use serde_json::json;
    use shared::openapi::refine_property;
    let colour = json!({"pattern": "^\\s*#[0-9A-Fa-f]{6}\\s*$"});
    let role = json!({"enum": ["admin", "member"]});
    let rules = [
        ("NewTag", "color", colour.clone()),
        ("TagBody", "color", colour),
        ("MemberBody", "role", role.clone()),
        ("RoleBody", "role", role),
        (
            "NewOrganization",
            "name",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        (
            "OrganizationBody",
            "name",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        (
            "NewOrganization",
            "description",
            json!({"maxLength": MAX_DESCRIPTION_CHARS}),
        ),
        (
            "OrganizationBody",
            "description",
            json!({"maxLength": MAX_DESCRIPTION_CHARS}),
        ),
        ("CategoryBody", "name", json!({"maxLength": MAX_NAME_CHARS})),
        (
            "CategoryPatch",
            "name",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        ("NewTag", "name", json!({"maxLength": MAX_NAME_CHARS})),
        ("TagBody", "name", json!({"maxLength": MAX_NAME_CHARS})),
        ("NewTask", "title", json!({"maxLength": MAX_TITLE_CHARS})),
        ("TaskBody", "title", json!({"maxLength": MAX_TITLE_CHARS})),
        (
            "NewTask",
            "description",
            json!({"maxLength": MAX_DESCRIPTION_CHARS}),
        ),
        (
            "TaskBody",
            "description",
            json!({"maxLength": MAX_DESCRIPTION_CHARS}),
        ),
        (
            "MemberBody",
            "UserEmail",
            json!({"maxLength": MAX_EMAIL_CHARS}),
        ),
        (
            "AssigneeBody",
            "UserEmail",
            json!({"maxLength": MAX_EMAIL_CHARS}),
        ),
        (
            "RegisterBody",
            "first_name",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        (
            "RegisterBody",
            "last_name",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        (
            "RegisterBody",
            "email",
            json!({"maxLength": MAX_EMAIL_CHARS}),
        ),
        (
            "RegisterBody",
            "password",
            json!({"minLength": MIN_PASSWORD_CHARS}),
        ),
        (
            "UserUpdate",
            "first_name",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
        (
            "UserUpdate",
            "last_name",
            json!({"maxLength": MAX_NAME_CHARS}),
        ),
    ];
    for (schema, property, rule) in rules {
        refine_property(document, schema, property, rule);
    }
    let instants = [
        ("OrganizationView", ["createdAt", "updatedAt"].as_slice()),
        ("CategoryView", &["createdAt", "updatedAt"]),
        ("TagView", &["createdAt", "updatedAt"]),
        ("TaskView", &["createdAt", "updatedAt"]),
        ("TaskCardView", &["createdAt", "updatedAt"]),
        ("InvitationView", &["createdAt", "expiresAt"]),
        ("PendingInvitationView", &["createdAt", "expiresAt"]),
    ];
    for (schema, properties) in instants {
        for property in properties {
            refine_property(document, schema, property, json!({"format": "date-time"}));
        }
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
                    state.authenticator.revocations().is_current(),
                    state.boards.pool_size(),
                );
            })
        }),
        wording: None,
        document: Some(document_additions),
    };
    let public_url = state.public_url.clone();
    let api = move || openapi(&public_url);
    shared::http::app(api, state.clone(), state.authenticator.clone(), &options)
}
