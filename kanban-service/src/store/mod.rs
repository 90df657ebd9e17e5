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
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
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

/// `ids` for an `IN (…)` list, padded with the last one to a power of two
/// (at least 4). The statement's text depends on the list's length, and
/// every text becomes a prepared statement cached on each pooled connection
/// and on the server: padded, lists of 1 to 1,000 ids take 9 texts instead
/// of up to 1,000 (the cache's capacity), so a busy pool's caches stay
/// small. Repeated ids change nothing an `IN` matches.
fn in_list(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    if let Some(&last) = ids.last() {
        let shape = ids.len().next_power_of_two().max(4);
        ids.resize(shape, last);
    }
    ids
}

/// A NULL of an SQL type: a column one arm of a `UNION ALL` does not have.
fn null(sql_type: &str) -> Expr {
    Expr::cust(format!("CAST(NULL AS {sql_type})"))
}

pub async fn begin(db: &Database) -> Result<Transaction, DbErr> {
    db.begin().await
}

#[cfg(test)]
mod tests {
    use super::in_list;

    #[test]
    fn in_lists_come_in_few_lengths_and_keep_their_ids() {
        assert!(in_list([]).is_empty());
        assert_eq!(in_list([7]), vec![7, 7, 7, 7]);
        assert_eq!(in_list([1, 2, 3, 4, 5]), vec![1, 2, 3, 4, 5, 5, 5, 5]);
        let lengths: std::collections::BTreeSet<usize> =
            (1..=1000).map(|n| in_list(0..n).len()).collect();
        assert_eq!(
            lengths.into_iter().collect::<Vec<_>>(),
            vec![4, 8, 16, 32, 64, 128, 256, 512, 1024]
        );
        let padded = in_list(10..210);
        assert_eq!(padded[..200], (10..210).collect::<Vec<_>>()[..]);
        assert!(padded[200..].iter().all(|&id| id == 209));
    }
}
