//! Single-use account tokens (password reset, email verification).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::entity::account_token;
pub use crate::entity::account_token::TokenPurpose;

/// Voids the user's unused tokens of this purpose (a newer one replaces
/// them, or the password they would reset changed).
pub async fn void(
    conn: &impl ConnectionTrait,
    user_id: i64,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Purpose.eq(purpose))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Stores a new token (its hash), voiding the user's older ones.
pub async fn issue(
    conn: &impl ConnectionTrait,
    token_hash: String,
    user_id: i64,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    void(conn, user_id, purpose, now).await?;
    account_token::ActiveModel {
        token_hash: Set(token_hash),
        user_id: Set(user_id),
        purpose: Set(purpose),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Uses the token: the user it was issued to when it was unused, unexpired
/// and for this purpose; a second use (even a concurrent one) finds nothing.
pub async fn redeem(
    conn: &impl ConnectionTrait,
    token_hash: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let Some(row) = account_token::Entity::find_by_id(token_hash.to_owned())
        .filter(account_token::Column::Purpose.eq(purpose))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let used = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::TokenHash.eq(token_hash))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok((used.rows_affected == 1).then_some(row.user_id))
}
