//! What every service of the account-manager system shares: the token model,
//! local token verification against a JWKS, the revocation check, the poem
//! security scheme built on them, error bodies, configuration and telemetry
//! helpers. This crate depends on no service.

pub mod auth;
pub mod claims;
pub mod cli;
pub mod client;
pub mod config;
pub mod connections;
pub mod db;
pub mod error;
pub mod health;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod payload;
pub mod required;
pub mod revocation;
pub mod server;
pub mod telemetry;
pub mod verifier;
pub mod wire;

pub use auth::{
    AccessTokenAuth, AccessTokenHeaderAuth, AnyAccessToken, AuthenticatedUser, Authenticator,
    ServiceTokenAuth,
};
pub use claims::{AccessClaims, RefreshClaims, Role, ServiceClaims, TokenType, TypedClaims};
pub use revocation::{Fact, FactKind, RevocationCheck, RevocationError, RevocationSet};
pub use verifier::{JwksKeySource, KeyKind, KeySource, TokenVerifier, VerifyError, verify_jwt};

#[cfg(feature = "testing")]
pub mod testing;
