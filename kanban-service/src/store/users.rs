//! What the board knows of users of the account manager.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ExprTrait, QueryFilter, Set,
};

use crate::boards::User;
use crate::entity::{people_version, user};

/// The id of `people_versions`' one row.
pub(super) const PEOPLE: i64 = 1;

/// Records what is known of a user as of `as_of`: inserts the user, or,
/// when this information is newer than what is stored, updates them, or
/// (nothing changed) marks what is stored as of `as_of`. Afterwards the
/// copy is as of `as_of` or later, so older information (a token issued
/// before) never overwrites it, and recording the same again changes
/// nothing. An update (a new name or email, which cards of every board
/// show) adds one to the people's version (the caller's transaction
/// commits both); a user inserted is on no card yet.
pub async fn remember(
    conn: &impl ConnectionTrait,
    id: i64,
    email: Option<String>,
    name: String,
    as_of: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = user::ActiveModel {
        id: Set(id),
        email: Set(email.clone()),
        name: Set(name.clone()),
        updated_at: Set(as_of),
    };
    let inserted = user::Entity::insert(row)
        .on_conflict(OnConflict::column(user::Column::Id).do_nothing().to_owned())
        .exec_without_returning(conn)
        .await?;
    if inserted > 0 {
        return Ok(());
    }
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(email.clone()))
        .col_expr(user::Column::Name, Expr::value(name.clone()))
        .col_expr(user::Column::UpdatedAt, Expr::value(as_of))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::UpdatedAt.lt(as_of))
        .filter(
            Condition::any()
                .add(user::Column::Name.ne(name))
                .add(match email {
                    Some(email) => user::Column::Email
                        .ne(email)
                        .or(user::Column::Email.is_null()),
                    None => user::Column::Email.is_not_null(),
                }),
        )
        .exec(conn)
        .await?;
    if updated.rows_affected > 0 {
        return people_changed(conn).await;
    }
    user::Entity::update_many()
        .col_expr(user::Column::UpdatedAt, Expr::value(as_of))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::UpdatedAt.lt(as_of))
        .exec(conn)
        .await?;
    Ok(())
}

/// Adds one to the people's version.
async fn people_changed(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    people_version::Entity::update_many()
        .col_expr(
            people_version::Column::Version,
            Expr::col(people_version::Column::Version).add(1),
        )
        .filter(people_version::Column::Id.eq(PEOPLE))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Option<User>, DbErr> {
    Ok(user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Into::into))
}

pub async fn by_email(conn: &impl ConnectionTrait, email: &str) -> Result<Option<User>, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(conn)
        .await?
        .map(Into::into))
}

pub async fn by_ids(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<User>, DbErr> {
    let rows = user::Entity::find()
        .filter(user::Column::Id.is_in(super::in_list(ids)))
        .all(conn)
        .await?;
    Ok(super::rows::all(rows))
}

/// The ids of the users known with this email (any case).
pub async fn ids_by_email(conn: &impl ConnectionTrait, email: &str) -> Result<Vec<i64>, DbErr> {
    let rows = user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|u| u.id).collect())
}
