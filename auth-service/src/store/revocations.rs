//! The revocation facts table: appended to, read in id order, pruned.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
use shared::revocation::{Fact, FactKind};

use crate::entity::revocation_fact;

/// Records facts and answers the id of the last one.
///
/// On PostgreSQL writers take a table lock first, so facts commit in id
/// order and a reader that has seen id `n` never later finds an id below it.
/// (SQLite has one writer at a time anyway.)
pub async fn record(conn: &impl ConnectionTrait, facts: &[Fact]) -> Result<i64, DbErr> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "LOCK TABLE revocation_facts IN SHARE ROW EXCLUSIVE MODE",
        ))
        .await?;
    }
    let now = Utc::now();
    let mut last = 0;
    for fact in facts {
        let row = revocation_fact::ActiveModel {
            kind: Set(fact.kind.as_str().to_owned()),
            subject: Set(fact.subject.clone()),
            at: Set(fact.at),
            expires_at: Set(fact.expires_at),
            created_at: Set(now),
            ..Default::default()
        };
        last = revocation_fact::Entity::insert(row)
            .exec(conn)
            .await?
            .last_insert_id;
    }
    Ok(last)
}

fn decode(row: revocation_fact::Model) -> Option<(i64, Fact)> {
    let kind = FactKind::parse(&row.kind)?;
    Some((
        row.id,
        Fact {
            kind,
            subject: row.subject,
            at: row.at,
            expires_at: row.expires_at,
        },
    ))
}

/// The facts recorded after `after` that still matter at `now`, in order.
pub async fn after(
    conn: &impl ConnectionTrait,
    after: i64,
    now: i64,
) -> Result<Vec<(i64, Fact)>, DbErr> {
    Ok(revocation_fact::Entity::find()
        .filter(revocation_fact::Column::Id.gt(after))
        .filter(revocation_fact::Column::ExpiresAt.gt(now))
        .order_by_asc(revocation_fact::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .filter_map(decode)
        .collect())
}

/// The highest fact id recorded (0 when none).
pub async fn last_id(conn: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let last: Option<i64> = revocation_fact::Entity::find()
        .select_only()
        .column(revocation_fact::Column::Id)
        .order_by_desc(revocation_fact::Column::Id)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(last.unwrap_or(0))
}

/// Forgets facts whose tokens have all expired.
pub async fn purge_expired(conn: &impl ConnectionTrait, now: i64) -> Result<u64, DbErr> {
    let result = revocation_fact::Entity::delete_many()
        .filter(revocation_fact::Column::ExpiresAt.lte(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
