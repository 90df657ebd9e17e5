//! Storage behind small functions; the only module that builds queries.

pub mod account_tokens;
pub mod audit;
pub mod keys;
pub mod revocations;
pub mod sessions;
pub mod users;

use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
pub use shared::db::{is_unique_violation, ping};

use crate::migration::Migrator;

/// Opens the database (see [`shared::db::connect`]) and runs the migrations
/// (one replica at a time, see [`shared::db::migrate_exclusively`]).
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let db = shared::db::connect(url, max_connections).await?;
    shared::db::migrate_exclusively(url, "auth-service migrations", Migrator::up(&db, None))
        .await?;
    Ok(db)
}
