//! Schema migrations, run at every start (idempotent) on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

mod m20261122_000001_accounts;
mod m20261123_000001_revocation_feed;
mod m20261124_000001_lifecycle;
mod m20261204_000001_google;
mod m20261204_000002_audit;
mod m20261204_000003_usernames;
mod m20261204_000004_session_terms;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_accounts::Migration),
            Box::new(m20261123_000001_revocation_feed::Migration),
            Box::new(m20261124_000001_lifecycle::Migration),
            Box::new(m20261204_000001_google::Migration),
            Box::new(m20261204_000002_audit::Migration),
            Box::new(m20261204_000003_usernames::Migration),
            Box::new(m20261204_000004_session_terms::Migration),
        ]
    }
}
