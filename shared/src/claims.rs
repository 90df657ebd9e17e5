//! The claims carried by every token the account manager signs.

use serde::{Deserialize, Serialize};

/// What a signed token is for. A token is only ever accepted where its type
/// is expected: an access token is never a service token, and vice versa.
/// Refresh tokens are opaque random strings, except those of sessions that
/// keep one refresh token for life (seed 003's clients read it as a JWT):
/// those are typed `refresh`, so no verifier accepts one as an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Service,
    Refresh,
}

/// A user's role in the account manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// Claims of an access token (`typ` = `access`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id, as a decimal string.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// The session (refresh-token family) this token was issued in.
    pub sid: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub typ: TokenType,
    /// `exp` in milliseconds since the epoch, for browser clients that
    /// compare it with `Date.now()` (seed 003's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
}

impl AccessClaims {
    /// The numeric user id; `None` when `sub` is not a user id.
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

/// Claims of a refresh token that is a JWT (`typ` = `refresh`): only its
/// holder reads them; the account manager looks the token up by its hash
/// and never trusts these claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub iss: String,
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    /// `exp` in milliseconds since the epoch.
    pub expiration: i64,
    pub jti: String,
    pub typ: TokenType,
}

/// Claims of a service token (`typ` = `service`), issued to a client by the
/// client-credentials call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceClaims {
    pub iss: String,
    pub aud: String,
    /// The client id.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// Space-separated scopes, e.g. `users:read`.
    pub scope: String,
    pub typ: TokenType,
}

impl ServiceClaims {
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scope.split_whitespace().any(|scope| scope == wanted)
    }
}

/// Claims that say what kind of token they belong to.
pub trait TypedClaims: serde::de::DeserializeOwned {
    const TYPE: TokenType;
    fn token_type(&self) -> TokenType;
    /// `iat`, unix seconds.
    fn issued_at(&self) -> i64;
}

impl TypedClaims for AccessClaims {
    const TYPE: TokenType = TokenType::Access;
    fn token_type(&self) -> TokenType {
        self.typ
    }
    fn issued_at(&self) -> i64 {
        self.iat
    }
}

impl TypedClaims for ServiceClaims {
    const TYPE: TokenType = TokenType::Service;
    fn token_type(&self) -> TokenType {
        self.typ
    }
    fn issued_at(&self) -> i64 {
        self.iat
    }
}
