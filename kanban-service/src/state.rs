//! What request handlers share: one per process, built by `startup`.

use std::sync::Arc;

use shared::Authenticator;

use crate::accounts::AccountManager;
use crate::boards::Boards;
use crate::config::Settings;

pub struct AppState {
    pub settings: Settings,
    pub public_url: String,
    pub boards: Boards,
    pub accounts: AccountManager,
    pub authenticator: Arc<Authenticator>,
}
