//! Storage behind small functions; the only module that builds queries.

pub mod boards;
pub mod tasks;
pub mod users;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QuerySelect, Select,
};
use sea_orm_migration::MigratorTrait;
pub use shared::db::ping;

use crate::migration::Migrator;

/// Opens the database (see [`shared::db::connect`]) and runs the migrations.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let db = shared::db::connect(url, max_connections).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u64,
    pub offset: u64,
}

/// Locks the selected rows until the transaction ends (`FOR UPDATE`) on
/// PostgreSQL; SQLite transactions are serialised already.
pub async fn lock_one<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
) -> Result<Option<E::Model>, DbErr> {
    if conn.get_database_backend() == DbBackend::Postgres {
        select.lock_exclusive().one(conn).await
    } else {
        select.one(conn).await
    }
}
