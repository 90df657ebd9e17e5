use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QuerySelect, QueryTrait, Set, Statement, TransactionTrait,
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

/// A refresh token's rotation: the token as stored, the client rotating
/// it, and its successor.
pub struct Rotation<'a> {
    pub token_hash: &'a str,
    pub session_id: &'a str,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The client rotating it.
    pub by: &'a str,
    pub successor_hash: String,
    pub successor_expires_at: DateTime<Utc>,
}

/// How a rotation went.
pub enum Rotated {
    /// This call marked the token, stored its successor and extended the
    /// session.
    Now,
    /// A concurrent rotation had marked it: the token as that one left it
    /// (none: it is gone).
    Already(Option<refresh_token::Model>),
}

/// Marks the token rotated, stores its successor and extends its session
/// (to the successor's expiry, used `now`), all or nothing; when a
/// concurrent rotation won, answers the token as the winner left it.
///
/// On PostgreSQL this is one statement (the upsert of [`rotate`] feeding
/// the session's update), atomic on its own, so it takes one round trip
/// instead of a transaction's four; the upsert of a loser waits for the
/// winner's commit, so the read that follows finds the winner's mark. On
/// SQLite (no writes in a `WITH`), a transaction of the two statements.
pub async fn rotate_extending(
    db: &DatabaseConnection,
    rotation: Rotation<'_>,
    now: DateTime<Utc>,
) -> Result<Rotated, DbErr> {
    let token_hash = rotation.token_hash.to_owned();
    let session_id = rotation.session_id.to_owned();
    let expires_at = rotation.successor_expires_at;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let upsert = DatabaseBackend::Postgres.build(&rotation_upsert(rotation, now));
        let mut values = upsert.values.map(|values| values.0).unwrap_or_default();
        let next = values.len();
        values.extend([expires_at.into(), now.into(), session_id.into()]);
        let sql = format!(
            "WITH rotated AS ({} RETURNING 1), \
             extended AS (UPDATE sessions SET expires_at = ${}, last_used_at = ${} \
             WHERE id = ${} AND (SELECT count(*) FROM rotated) = 2 RETURNING 1) \
             SELECT (SELECT count(*) FROM rotated) AS written",
            upsert.sql,
            next + 1,
            next + 2,
            next + 3
        );
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                values,
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("a rotation answered no row".to_owned()))?;
        let written = row.try_get::<i64>("", "written")?.unsigned_abs();
        return Ok(if wrote_rotation(written)? {
            Rotated::Now
        } else {
            Rotated::Already(refresh_token(db, &token_hash).await?)
        });
    }
    let txn = db.begin().await?;
    if rotate(&txn, rotation, now).await? {
        extend(&txn, &session_id, now, expires_at).await?;
        txn.commit().await?;
        return Ok(Rotated::Now);
    }
    let row = refresh_token(&txn, &token_hash).await?;
    txn.rollback().await?;
    Ok(Rotated::Already(row))
}

/// Marks the token rotated by its client `now`, unless it already was, and
/// inserts its successor, in one statement; true when this call did both.
/// Inside a transaction this decides a race: a concurrent rotation of the
/// same token waits for this one's transaction, then finds the token
/// rotated and its successor present, and changes nothing.
///
/// It is an upsert of both rows, which writes only the mark over an
/// existing row: the rotated token's row exists, so its values only
/// conflict and carry the mark, written when the row has none; the
/// successor's row is new (its hash derives from the rotated token's, so a
/// rotation that already happened inserted it, and it is left as it is).
async fn rotate(
    conn: &impl ConnectionTrait,
    rotation: Rotation<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let upsert = conn
        .get_database_backend()
        .build(&rotation_upsert(rotation, now));
    wrote_rotation(conn.execute_raw(upsert).await?.rows_affected())
}

/// Whether a rotation's upsert, which wrote `written` rows, did both of
/// its writes (false: the token was rotated already, nothing written).
fn wrote_rotation(written: u64) -> Result<bool, DbErr> {
    match written {
        // The mark, and the successor.
        2 => Ok(true),
        // Rotated already: nothing written.
        0 => Ok(false),
        n => Err(DbErr::Custom(format!(
            "a refresh token's rotation wrote {n} rows instead of 2 or none"
        ))),
    }
}

/// The upsert [`rotate`] runs: the mark over the stored token (written
/// only where it has none) and the successor's row.
fn rotation_upsert(
    rotation: Rotation<'_>,
    now: DateTime<Utc>,
) -> sea_orm::sea_query::InsertStatement {
    use refresh_token::Column;
    let rotated = refresh_token::ActiveModel {
        token_hash: Set(rotation.token_hash.to_owned()),
        session_id: Set(rotation.session_id.to_owned()),
        issued_at: Set(rotation.issued_at),
        expires_at: Set(rotation.expires_at),
        rotated_at: Set(Some(now)),
        rotated_by: Set(Some(rotation.by.to_owned())),
    };
    let successor = refresh_token::ActiveModel {
        token_hash: Set(rotation.successor_hash),
        session_id: Set(rotation.session_id.to_owned()),
        issued_at: Set(now),
        expires_at: Set(rotation.successor_expires_at),
        rotated_at: Set(None),
        rotated_by: Set(None),
    };
    let stored = Expr::col((refresh_token::Entity, Column::RotatedAt));
    let proposed = Expr::col((Alias::new("excluded"), Column::RotatedAt));
    refresh_token::Entity::insert_many([rotated, successor])
        .on_conflict(
            OnConflict::column(Column::TokenHash)
                .update_columns([Column::RotatedAt, Column::RotatedBy])
                .action_and_where(stored.is_null().and(proposed.is_not_null()))
                .to_owned(),
        )
        .into_query()
}
