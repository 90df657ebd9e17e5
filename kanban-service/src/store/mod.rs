//! Storage behind small functions; the only module that builds queries.
//! Rows come back as `boards` values (see `rows`); the rules never see an
//! entity, a query or a connection's API, only the opaque handles below.

pub mod boards;
pub mod cards;
pub mod invitations;
mod rows;
pub mod tasks;
pub mod users;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    QuerySelect, Select, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
pub use shared::db::{ping, pool_size};

use crate::migration::Migrator;

/// The database (a pool); `Boards` holds it.
pub type Database = DatabaseConnection;

/// A transaction: `commit()` ends it, dropping it rolls it back.
pub type Transaction = DatabaseTransaction;

/// Opens the database (see [`shared::db::connect`]) and runs the migrations
/// (one replica at a time, see [`shared::db::migrate_exclusively`]).
pub async fn connect(url: &str, max_connections: u32) -> Result<Database, DbErr> {
    let db = shared::db::connect(url, max_connections).await?;
    shared::db::migrate_exclusively(url, "kanban-service migrations", Migrator::up(&db, None))
        .await?;
    Ok(db)
}

/// A NULL of an SQL type: a column one arm of a `UNION ALL` does not have.
fn null(sql_type: &str) -> Expr {
    Expr::cust(format!("CAST(NULL AS {sql_type})"))
}

pub async fn begin(db: &Database) -> Result<Transaction, DbErr> {
    db.begin().await
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

/// Locks the selected rows until the transaction ends, sharing the lock
/// with other such readers (`FOR SHARE`) on PostgreSQL: an exclusive lock
/// of the same rows waits for them, and they for it.
pub async fn share_one<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    select: Select<E>,
) -> Result<Option<E::Model>, DbErr> {
    if conn.get_database_backend() == DbBackend::Postgres {
        select.lock_shared().one(conn).await
    } else {
        select.one(conn).await
    }
}
