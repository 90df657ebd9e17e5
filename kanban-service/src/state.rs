//! What request handlers share: one per process, built by `startup`.

use std::sync::Arc;

use shared::Authenticator;

use crate::accounts::{AccountManager, Accounts};
use crate::api::card_budget::CardBudget;
use crate::api::kept_lists::KeptLists;
use crate::api::views::{OrganizationView, TaskCardView};
use crate::avatars::Avatars;
use crate::boards::{Boards, OrganizationListing, TaskListing};
use crate::config::Settings;

pub struct AppState {
    pub settings: Settings,
    pub public_url: String,
    /// How `profile_picture` URLs are made.
    pub avatars: Avatars,
    pub boards: Boards,
    /// Room for the cards of the lists being answered.
    pub card_budget: CardBudget,
    /// Task lists as written, kept per board version.
    pub task_lists: KeptLists<TaskListing, TaskCardView>,
    /// Organization lists as written, kept per version of their boards.
    pub organization_lists: KeptLists<OrganizationListing, OrganizationView>,
    pub account_manager: AccountManager,
    pub authenticator: Arc<Authenticator>,
    /// Set when the service was told to stop (readiness answers 503).
    pub draining: shared::health::Draining,
}

impl AppState {
    /// Registration, login and the current user's profile.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts {
            manager: &self.account_manager,
            boards: &self.boards,
        }
    }
}
