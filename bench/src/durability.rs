//! The durability settings of the servers a run measured against, read
//! back from the servers themselves (not from how the script meant to start
//! them): PostgreSQL's `fsync` and `synchronous_commit`, Redis's
//! `appendonly` and `appendfsync`.

use anyhow::Context;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// What the servers say of their durability.
pub(crate) struct Durability {
    pub(crate) fsync: String,
    pub(crate) synchronous_commit: String,
    pub(crate) appendonly: String,
    pub(crate) appendfsync: String,
}

impl Durability {
    /// Production settings: every commit reaches the disk before it is
    /// answered, and Redis writes its append-only file at least every second.
    pub(crate) fn is_durable(&self) -> bool {
        self.fsync == "on"
            && self.synchronous_commit != "off"
            && self.appendonly == "yes"
            && matches!(self.appendfsync.as_str(), "everysec" | "always")
    }

    /// One line for the report, saying plainly when the figures flatter.
    pub(crate) fn describe(&self) -> String {
        let settings = format!(
            "PostgreSQL fsync={}, synchronous_commit={}; Redis appendonly={}, appendfsync={}",
            self.fsync, self.synchronous_commit, self.appendonly, self.appendfsync
        );
        if self.is_durable() {
            format!("Durability: durable ({settings}).")
        } else {
            format!(
                "Durability: UNSAFE, not a production figure ({settings}): commits are not \
                 on disk when answered."
            )
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "durable": self.is_durable(),
            "postgresql": {"fsync": self.fsync, "synchronous_commit": self.synchronous_commit},
            "redis": {"appendonly": self.appendonly, "appendfsync": self.appendfsync},
        })
    }
}

async fn show(db: &sea_orm::DatabaseConnection, setting: &str) -> anyhow::Result<String> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SHOW {setting}"),
        ))
        .await?
        .with_context(|| format!("SHOW {setting} answered nothing"))?;
    Ok(row.try_get_by_index::<String>(0)?)
}

async fn config_get(
    redis: &mut redis::aio::MultiplexedConnection,
    setting: &str,
) -> anyhow::Result<String> {
    let pair: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(setting)
        .query_async(redis)
        .await?;
    pair.get(1)
        .cloned()
        .with_context(|| format!("CONFIG GET {setting} answered nothing"))
}

/// Reads the settings from the PostgreSQL server (an admin URL) and Redis.
pub(crate) async fn durability(database_url: &str, redis_url: &str) -> anyhow::Result<Durability> {
    let db = shared::db::connect(database_url, 1)
        .await
        .context("cannot read PostgreSQL's settings")?;
    let fsync = show(&db, "fsync").await?;
    let synchronous_commit = show(&db, "synchronous_commit").await?;
    db.close().await?;
    let mut redis = redis::Client::open(redis_url)?
        .get_multiplexed_async_connection()
        .await
        .context("cannot read Redis's settings")?;
    Ok(Durability {
        fsync,
        synchronous_commit,
        appendonly: config_get(&mut redis, "appendonly").await?,
        appendfsync: config_get(&mut redis, "appendfsync").await?,
    })
}
