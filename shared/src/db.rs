//! Opening the SQL database, the same way in every service.

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, SqlErr,
    Statement,
};

/// How long a pooled connection may sit idle before it is pinged when next
/// handed out.
const IDLE_BEFORE_PING: std::time::Duration = std::time::Duration::from_secs(30);

/// Opens the pool. SQLite gets one connection (its writes are serialised
/// anyway) so transactions never meet "database is locked", WAL mode and
/// foreign keys; the folder of its file is created. PostgreSQL gets a pool
/// of `max_connections`. Migrations are the caller's.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url)
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|err| DbErr::Custom(format!("cannot create {}: {err}", parent.display())))?;
    }
    let sqlite = url.starts_with("sqlite:");
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if sqlite { 1 } else { max_connections })
        .min_connections(1)
        // A pooled connection is pinged before it is handed out only when
        // it sat idle long enough to have been dropped by the server or a
        // proxy: pinging on every acquire cost a round trip per statement
        // outside a transaction (most of a board read's statements).
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if sqlite {
        db.execute_unprepared(
            "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )
        .await?;
    }
    Ok(db)
}

/// The pool's open and idle connections (for the metrics), read without
/// waiting.
pub fn pool_size(db: &DatabaseConnection) -> Option<(u32, usize)> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            Some((pool.size(), pool.num_idle()))
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            Some((pool.size(), pool.num_idle()))
        }
        _ => None,
    }
}

/// Runs `migrate` (a migrator's `up` on the pool of `url`) while holding a
/// PostgreSQL advisory lock named `name`, taken on a connection of its own:
/// replicas starting at once on one database migrate one after the other,
/// and the later ones find nothing left to do. The lock goes with its
/// connection, so a replica that dies while migrating frees it. SQLite (one
/// process per file) runs `migrate` as it is.
pub async fn migrate_exclusively<T>(
    url: &str,
    name: &str,
    migrate: impl Future<Output = Result<T, DbErr>>,
) -> Result<T, DbErr> {
    if url.starts_with("sqlite:") {
        return migrate.await;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let lock = Database::connect(options).await?;
    let key = |sql: &str| {
        Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            sql,
            [sea_orm::Value::from(name.to_owned())],
        )
    };
    lock.execute_raw(key("SELECT pg_advisory_lock(hashtextextended($1, 0))"))
        .await?;
    let result = migrate.await;
    let unlocked = lock
        .execute_raw(key("SELECT pg_advisory_unlock(hashtextextended($1, 0))"))
        .await;
    lock.close().await.ok();
    let value = result?;
    unlocked?;
    Ok(value)
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// True when the error is a unique-constraint violation.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether the database answers (for readiness probes).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// Creates database `name` on the server of `admin_url` (PostgreSQL) and
/// returns its URL. For tests and benchmarks, which want a fresh one each.
pub async fn create_database(admin_url: &str, name: &str) -> Result<String, DbErr> {
    let admin = Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .ok_or_else(|| DbErr::Custom("the database URL names no database".into()))?;
    Ok(format!("{base}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/auth.db?mode=rwc"),
            Some("data/auth.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
