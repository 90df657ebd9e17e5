use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set,
};

use crate::entity::{refresh_token, session, user};

/// A session about to be opened.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: i64,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    /// Keeps one refresh token for life.
    pub fixed_refresh: bool,
    /// Its access tokens get the extended lifetime.
    pub extended_access: bool,
}

pub async fn create(
    conn: &impl ConnectionTrait,
    new: NewSession<'_>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    session::ActiveModel {
        id: Set(new.id.to_owned()),
        user_id: Set(new.user_id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        user_agent: Set(new.user_agent),
        ip_address: Set(new.ip_address),
        last_used_at: Set(Some(now)),
        fixed_refresh: Set(new.fixed_refresh),
        extended_access: Set(new.extended_access),
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &impl ConnectionTrait, id: &str) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find_by_id(id.to_owned()).one(conn).await
}

/// A refresh: the session lives on until `expires_at`, used `now`.
pub async fn extend(
    conn: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(session::Column::LastUsedAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn revoke(
    conn: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// The ids of the user's sessions that are neither revoked nor expired.
pub async fn live_ids(
    conn: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .into_tuple::<String>()
        .all(conn)
        .await
}

/// The user's sessions that are neither revoked nor expired, newest first.
pub async fn live_of(
    conn: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<session::Model>, DbErr> {
    use sea_orm::QueryOrder;
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .order_by_desc(session::Column::CreatedAt)
        .order_by_desc(session::Column::Id)
        .all(conn)
        .await
}

pub async fn revoke_all(
    conn: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn insert_refresh_token(
    conn: &impl ConnectionTrait,
    token_hash: String,
    session_id: &str,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_token::ActiveModel {
        token_hash: Set(token_hash),
        session_id: Set(session_id.to_owned()),
        issued_at: Set(issued_at),
        expires_at: Set(expires_at),
        rotated_at: Set(None),
        rotated_by: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn refresh_token(
    conn: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<refresh_token::Model>, DbErr> {
    refresh_token::Entity::find_by_id(token_hash.to_owned())
        .one(conn)
        .await
}

/// A refresh token with its session and the session's user (none when the
/// account is gone), read in one statement: a refresh needs all three, and
/// each separate read would cost its own round trips.
pub async fn refresh_token_with_holder(
    conn: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<(refresh_token::Model, session::Model, Option<user::Model>)>, DbErr> {
    let row = refresh_token::Entity::find_by_id(token_hash.to_owned())
        .find_also_related(session::Entity)
        .and_also_related(user::Entity)
        .one(conn)
        .await?;
    // Every refresh token has its session (a foreign key).
    Ok(row.and_then(|(token, session, user)| Some((token, session?, user))))
}

/// Marks the token rotated by client `by` unless it already was; true when
/// this call did. Inside a transaction this decides a race: a concurrent
/// mark of the same token waits for this one's transaction, then finds the
/// token rotated and changes nothing.
pub async fn mark_rotated(
    conn: &impl ConnectionTrait,
    token_hash: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
        .col_expr(refresh_token::Column::RotatedBy, Expr::value(by))
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
