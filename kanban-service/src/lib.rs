//! The kanban service: organizations, members, categories, tags and tasks,
//! behind access tokens of the account manager, verified locally.

pub mod accounts;
pub mod api;
pub mod avatars;
pub mod boards;
pub mod config;
pub mod entity;
pub mod error;
pub mod migration;
pub mod startup;
pub mod state;
pub mod store;

pub use config::Settings;
pub use startup::Application;
