use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
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
        retired_at: Set(key.retired_at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Retires every signing key but `keep`.
pub async fn retire_others(
    conn: &impl ConnectionTrait,
    keep: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .filter(signing_key::Column::Kid.ne(keep))
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
