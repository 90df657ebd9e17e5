//! sea-orm entities of the account manager's tables.

pub mod account_token;
pub mod admin_claim;
pub mod audit_event;
pub mod refresh_token;
pub mod revocation_fact;
pub mod server_secret;
pub mod session;
pub mod signing_key;
pub mod user;
