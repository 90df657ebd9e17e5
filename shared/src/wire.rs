//! The wire contract between the account manager and the services that call
//! it: one definition of each request and answer, used by the account
//! manager's handlers and by its clients alike, so a renamed field breaks
//! the build, not production.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::required::{Required, Text};
use crate::revocation::Fact;

/// Registration with email and password (seed 004's Register body;
/// `POST /api/v1/auth/register/email` and `/api/v1/register/email`).
#[derive(Debug, Clone, Default, Object, Serialize, Deserialize)]
#[oai(example)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    /// 255 characters at most.
    pub email: Required<String>,
    /// 6 or more characters.
    pub password: Required<String>,
    /// Must match `password`.
    pub password2: Required<String>,
    #[oai(nullable)]
    pub first_name: Option<Text>,
    #[oai(nullable)]
    pub last_name: Option<Text>,
}

impl poem_openapi::types::Example for RegisterRequest {
    fn example() -> Self {
        // Seed 004's example.
        Self {
            email: Required(Some("johndoe@mail.com".to_owned())),
            password: Required(Some("johndoe".to_owned())),
            password2: Required(Some("johndoe".to_owned())),
            first_name: None,
            last_name: None,
        }
    }
}

/// Login with email and password (`POST /api/v1/auth/login/email` and
/// `/api/v1/login/email`).
#[derive(Debug, Clone, Default, Object, Serialize, Deserialize)]
#[oai(example)]
pub struct LoginRequest {
    /// The account's email (or username).
    pub email: Required<String>,
    pub password: Required<String>,
}

impl poem_openapi::types::Example for LoginRequest {
    fn example() -> Self {
        Self {
            email: Required(Some("johndoe@mail.com".to_owned())),
            password: Required(Some("johndoe".to_owned())),
        }
    }
}

/// Sign-in with a Google ID token (`POST /api/v1/auth/login/google`).
#[derive(Debug, Clone, Default, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct GoogleLoginRequest {
    /// The ID token (a JWT) Google's sign-in gave the frontend.
    pub id_token: Required<String>,
}

/// seed 004's token answer, plus the refresh token: what registration,
/// login and refresh answer.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(example)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// The access token (a JWT) for `Authorization: Bearer`.
    pub token: String,
    /// HTTP date, UTC.
    pub token_issued_date: String,
    /// HTTP date, UTC.
    pub token_expired_date: String,
    pub user_id: i64,
    /// Exchange at `/api/v1/auth/token/refresh`; rotated on every use.
    pub refresh_token: String,
    /// HTTP date, UTC.
    pub refresh_token_expired_date: String,
}

impl poem_openapi::types::Example for TokenResponse {
    fn example() -> Self {
        // Seed 004's example (the token shortened), with the refresh token.
        Self {
            token: "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJpZCI6MX0.c2lnbmF0dXJl".to_owned(),
            token_issued_date: "Sat, 08 Feb 2020 21:41:10 GMT".to_owned(),
            token_expired_date: "Sat, 08 Feb 2020 21:42:10 GMT".to_owned(),
            user_id: 1,
            refresh_token: "rt_5w0mJ2VdW8cQk1bXyZ3a".to_owned(),
            refresh_token_expired_date: "Sat, 07 Mar 2020 21:41:10 GMT".to_owned(),
        }
    }
}

/// The current user (`GET` and `PATCH /api/v1/auth/me`).
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct UserResponse {
    pub id: i64,
    #[oai(nullable)]
    pub email: Option<String>,
    #[oai(nullable)]
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// `admin` or `user`.
    pub role: String,
    /// `active`, `disabled` or `banned`.
    pub status: String,
    /// Whether the user proved they read mail at `email`.
    #[serde(default)]
    pub email_verified: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The names to change (`PATCH /api/v1/auth/me`); absent fields stay as
/// they are.
#[derive(Debug, Clone, Default, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct ProfileUpdate {
    #[oai(nullable)]
    pub first_name: Option<Text>,
    #[oai(nullable)]
    pub last_name: Option<Text>,
}

/// What other services may know of a user (`GET /api/v1/users/lookup`
/// and `GET /api/v1/users`).
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    pub id: i64,
    #[oai(nullable)]
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// `active`, `disabled` or `banned`.
    pub status: String,
}

/// Client credentials of a service (`POST /api/v1/auth/token/service`).
#[derive(Debug, Clone, Default, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct ServiceTokenRequest {
    pub client_id: Required<String>,
    pub client_secret: Required<String>,
}

/// A service token.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct ServiceTokenResponse {
    /// A JWT with `typ: service`, for `Authorization: Bearer`.
    pub token: String,
    pub token_issued_date: String,
    pub token_expired_date: String,
    /// Space-separated scopes.
    pub scope: String,
}

/// One page of the revocation feed (`GET /api/v1/revocations/feed`).
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct RevocationFeedPage {
    /// The life of the feed this page belongs to; send it back with the
    /// next request. A different value means: start over from `facts`.
    pub generation: String,
    /// Send back as `after` to get only later facts.
    pub cursor: String,
    /// True when `facts` is every live fact (a snapshot).
    pub reset: bool,
    pub facts: Vec<Fact>,
}

/// The scope that lets a service read the revocation feed.
pub const SCOPE_REVOCATIONS_READ: &str = "revocations:read";
/// The scope of a service token that signs users in for clients that never
/// refresh: those sessions' access tokens get the extended lifetime.
pub const SCOPE_SESSIONS_EXTENDED: &str = "sessions:extended";
/// The scope that lets a service look users up.
pub const SCOPE_USERS_READ: &str = "users:read";

/// The one rule for a person's full name: "First Last", trimmed (empty
/// when both are).
pub fn full_name(first: &str, last: &str) -> String {
    format!("{} {}", first.trim(), last.trim())
        .trim()
        .to_owned()
}
