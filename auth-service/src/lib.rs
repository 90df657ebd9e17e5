//! The account manager: registers users, issues and rotates tokens, tracks
//! account state and revocation, publishes its signing keys.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod config;
pub mod entity;
pub mod mail;
pub mod migration;
pub mod startup;
pub mod state;
pub mod store;
pub mod throttle;
pub mod tokens;

pub use config::Settings;
pub use startup::Application;
