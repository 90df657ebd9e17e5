//! The wire contract between the account manager and the services that call
//! it: one definition of each request and answer, used by the account
//! manager's handlers and by its clients alike, so a renamed field breaks
//! the build, not production.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::revocation::Fact;

/// Client credentials of a service (`POST /api/v1/auth/token/service`).
#[derive(Debug, Clone, Default, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct ServiceTokenRequest {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
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
/// The scope that lets a service look users up.
pub const SCOPE_USERS_READ: &str = "users:read";
