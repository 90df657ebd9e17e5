//! What request handlers share: one per process, built by `startup`.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use shared::Authenticator;

use crate::accounts::AccountPolicy;
use crate::accounts::google::GoogleVerifier;
use crate::accounts::kept::KeptAccounts;
use crate::accounts::passwords::PasswordHasher;
use crate::accounts::service::Accounts;
use crate::audit::AuditLog;
use crate::config::Settings;
use crate::mail::Mailer;
use crate::tokens::TokenIssuer;
use crate::tokens::feed::SqlFeed;
use crate::tokens::keys::KeyRing;
use crate::tokens::revocation::Revocations;
use crate::tokens::sessions::Sessions;

pub struct AppState {
    pub settings: Settings,
    pub public_url: String,
    pub db: DatabaseConnection,
    pub passwords: PasswordHasher,
    pub keys: Arc<KeyRing>,
    pub issuer: Arc<TokenIssuer>,
    pub sessions: Sessions,
    pub revocations: Arc<Revocations>,
    /// The revocation feed as the HTTP route serves it.
    pub feed: Arc<SqlFeed>,
    pub authenticator: Arc<Authenticator>,
    pub mailer: Mailer,
    pub policy: AccountPolicy,
    pub throttle: crate::throttle::Throttle,
    pub audit: AuditLog,
    /// The accounts `me` answers from.
    pub kept_accounts: Arc<KeptAccounts>,
    /// Google sign-in; `None` when no client id is configured.
    pub google: Option<GoogleVerifier>,
    /// Set when the service was told to stop (readiness answers 503).
    pub draining: shared::health::Draining,
}

impl AppState {
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts {
            db: &self.db,
            passwords: &self.passwords,
            sessions: &self.sessions,
            mailer: &self.mailer,
            policy: &self.policy,
            audit: &self.audit,
            google: self.google.as_ref(),
            revocations: &self.revocations,
            kept: &self.kept_accounts,
        }
    }
}
