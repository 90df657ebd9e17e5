use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::entity::user::{AccountStatus, StoredRole};
use crate::entity::{admin_claim, user};

pub struct NewUser {
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: Option<String>,
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    user::ActiveModel {
        email: Set(new.email),
        username: Set(new.username),
        first_name: Set(new.first_name),
        last_name: Set(new.last_name),
        password_hash: Set(new.password_hash),
        role: Set(StoredRole::User),
        status: Set(AccountStatus::Active),
        banned_until: Set(None),
        not_before: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// Makes `user_id` the first admin unless someone already is; true when
/// this call made the claim. Safe under concurrent registrations: the
/// claim's fixed primary key lets exactly one insert through.
pub async fn claim_first_admin(
    conn: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claim = admin_claim::ActiveModel {
        id: Set(1),
        user_id: Set(user_id),
        claimed_at: Set(now),
    };
    let inserted = admin_claim::Entity::insert(claim)
        .on_conflict(
            OnConflict::column(admin_claim::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    if inserted != 1 {
        return Ok(false);
    }
    user::Entity::update_many()
        .col_expr(
            user::Column::Role,
            sea_orm::sea_query::Expr::value(StoredRole::Admin),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(true)
}

pub async fn by_email(
    conn: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(conn)
        .await
}

pub async fn by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(conn).await
}

pub async fn set_password_hash(
    conn: &impl ConnectionTrait,
    id: i64,
    hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(
            user::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .col_expr(
            user::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(user::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Tokens of the user issued before `instant` (unix seconds) are dead.
pub async fn set_not_before(
    conn: &impl ConnectionTrait,
    id: i64,
    instant: i64,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(
            user::Column::NotBefore,
            sea_orm::sea_query::Expr::value(instant),
        )
        .filter(user::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn not_before(conn: &impl ConnectionTrait, id: i64) -> Result<Option<i64>, DbErr> {
    Ok(by_id(conn, id).await?.and_then(|user| user.not_before))
}

pub async fn by_ids(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<user::Model>, DbErr> {
    use sea_orm::QueryOrder;
    user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(user::Column::Id)
        .all(conn)
        .await
}

pub async fn set_names(
    conn: &impl ConnectionTrait,
    id: i64,
    first_name: Option<String>,
    last_name: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = user::Entity::update_many().col_expr(
        user::Column::UpdatedAt,
        sea_orm::sea_query::Expr::value(now),
    );
    if let Some(first_name) = first_name {
        update = update.col_expr(
            user::Column::FirstName,
            sea_orm::sea_query::Expr::value(first_name),
        );
    }
    if let Some(last_name) = last_name {
        update = update.col_expr(
            user::Column::LastName,
            sea_orm::sea_query::Expr::value(last_name),
        );
    }
    update.filter(user::Column::Id.eq(id)).exec(conn).await?;
    Ok(())
}
