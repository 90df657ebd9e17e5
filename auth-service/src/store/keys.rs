use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set, Statement,
};

use crate::entity::{server_secret, signing_key};

pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<signing_key::Model>, DbErr> {
    signing_key::Entity::find()
        .order_by_asc(signing_key::Column::CreatedAt)
        .all(conn)
        .await
}

pub async fn insert(conn: &impl ConnectionTrait, key: signing_key::Model) -> Result<(), DbErr> {
    signing_key::ActiveModel {
        kid: Set(key.kid),
        algorithm: Set(key.algorithm),
        private_key: Set(key.private_key),
        public_key: Set(key.public_key),
        created_at: Set(key.created_at),
        activated_at: Set(key.activated_at),
        retired_at: Set(key.retired_at),
        revoked_at: Set(key.revoked_at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Serialises key changes (rotation, revocation) across replicas; SQLite
/// has one writer at a time anyway.
pub async fn lock(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE",
        ))
        .await?;
    }
    Ok(())
}

/// The key starts signing.
pub async fn activate(
    conn: &impl ConnectionTrait,
    kid: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::ActivatedAt, Expr::value(now))
        .filter(signing_key::Column::Kid.eq(kid))
        .exec(conn)
        .await?;
    Ok(())
}

/// The key is compromised: it stops signing and is never published again.
pub async fn revoke(
    conn: &impl ConnectionTrait,
    kid: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RevokedAt, Expr::value(now))
        .filter(signing_key::Column::Kid.eq(kid))
        .exec(conn)
        .await?;
    Ok(())
}

/// Retires every active signing key but `keep` (next keys stay next).
pub async fn retire_others(
    conn: &impl ConnectionTrait,
    keep: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .filter(signing_key::Column::Kid.ne(keep))
        .filter(signing_key::Column::ActivatedAt.is_not_null())
        .filter(signing_key::Column::RetiredAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// The named secret, created with `fresh` if it does not exist yet. Every
/// replica ends up with the same value, whichever created it.
pub async fn secret_or_insert(
    conn: &impl ConnectionTrait,
    name: &str,
    fresh: String,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let row = server_secret::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(fresh),
        created_at: Set(now),
    };
    server_secret::Entity::insert(row)
        .on_conflict(
            OnConflict::column(server_secret::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    server_secret::Entity::find_by_id(name.to_owned())
        .one(conn)
        .await?
        .map(|row| row.value)
        .ok_or_else(|| DbErr::RecordNotFound(format!("server secret {name}")))
}
