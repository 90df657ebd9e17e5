use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, OnConflict, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::user::{AccountStatus, StoredRole};
use crate::entity::{admin_claim, user};

pub struct NewUser {
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: Option<String>,
    /// The Google account it signs in with (Google sign-up).
    pub google_subject: Option<String>,
    /// Set when the address is known to be verified (by Google).
    pub email_verified_at: Option<DateTime<Utc>>,
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
        ban_reason: Set(None),
        email_verified_at: Set(new.email_verified_at),
        not_before: Set(None),
        google_subject: Set(new.google_subject),
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

/// The account whose email or username (either case) is `name`.
pub async fn by_sign_in_name(
    conn: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<user::Model>, DbErr> {
    let lower = name.trim().to_lowercase();
    let username: SimpleExpr = Func::lower(Expr::col(user::Column::Username)).into();
    user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::Email.eq(lower.clone()))
                .add(Expr::expr(username).eq(lower)),
        )
        .order_by_asc(user::Column::Id)
        .one(conn)
        .await
}

/// The account linked to this Google account.
pub async fn by_google_subject(
    conn: &impl ConnectionTrait,
    subject: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::GoogleSubject.eq(subject))
        .one(conn)
        .await
}

/// Links the account to a Google account, unless it is linked already;
/// true when this call linked it.
pub async fn link_google(
    conn: &impl ConnectionTrait,
    id: i64,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::GoogleSubject, Expr::value(subject))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::GoogleSubject.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
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

/// Changes the names given; false when there is no such account.
pub async fn set_names(
    conn: &impl ConnectionTrait,
    id: i64,
    first_name: Option<String>,
    last_name: Option<String>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
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
    let result = update.filter(user::Column::Id.eq(id)).exec(conn).await?;
    Ok(result.rows_affected == 1)
}

/// Serialises every change that could leave no active admin: each takes
/// this lock first (the first-admin claim's row), so two concurrent
/// demotions cannot both see the other admin still active.
pub async fn lock_admins(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    admin_claim::Entity::update_many()
        .col_expr(
            admin_claim::Column::UserId,
            Expr::col(admin_claim::Column::UserId),
        )
        .filter(admin_claim::Column::Id.eq(1))
        .exec(conn)
        .await?;
    Ok(())
}

/// Accounts in this standing at `now` (a ban that has run out is active).
fn standing_is(status: AccountStatus, now: DateTime<Utc>) -> Condition {
    let ban_over = Condition::all()
        .add(user::Column::Status.eq(AccountStatus::Banned))
        .add(user::Column::BannedUntil.lte(now));
    match status {
        AccountStatus::Active => Condition::any()
            .add(user::Column::Status.eq(AccountStatus::Active))
            .add(ban_over),
        AccountStatus::Disabled => Condition::all().add(user::Column::Status.eq(status)),
        AccountStatus::Banned => Condition::all()
            .add(user::Column::Status.eq(AccountStatus::Banned))
            .add(
                Condition::any()
                    .add(user::Column::BannedUntil.is_null())
                    .add(user::Column::BannedUntil.gt(now)),
            ),
    }
}

/// How many active admins there are besides `except`.
pub async fn other_active_admins(
    conn: &impl ConnectionTrait,
    except: i64,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    user::Entity::find()
        .filter(user::Column::Role.eq(StoredRole::Admin))
        .filter(user::Column::Id.ne(except))
        .filter(standing_is(AccountStatus::Active, now))
        .count(conn)
        .await
}

/// An account's role and standing, as an admin (or the user) set them.
pub struct Standing {
    pub role: StoredRole,
    pub status: AccountStatus,
    pub banned_until: Option<DateTime<Utc>>,
    pub ban_reason: Option<String>,
}

pub async fn set_standing(
    conn: &impl ConnectionTrait,
    id: i64,
    standing: Standing,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(standing.role))
        .col_expr(user::Column::Status, Expr::value(standing.status))
        .col_expr(
            user::Column::BannedUntil,
            Expr::value(standing.banned_until),
        )
        .col_expr(user::Column::BanReason, Expr::value(standing.ban_reason))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn set_email_verified(
    conn: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::EmailVerifiedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Which accounts an admin looks for.
pub struct UserFilter {
    /// Matched, case-insensitively, anywhere in email, username or names.
    pub text: Option<String>,
    pub status: Option<AccountStatus>,
    pub role: Option<StoredRole>,
}

/// `LIKE` pattern finding `text` anywhere, its wildcards taken literally.
fn contains_pattern(text: &str) -> LikeExpr {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}

/// One page of the accounts matching `filter`, by id, and how many match.
pub async fn search(
    conn: &impl ConnectionTrait,
    filter: &UserFilter,
    limit: u64,
    offset: u64,
    now: DateTime<Utc>,
) -> Result<(Vec<user::Model>, u64), DbErr> {
    let mut condition = Condition::all();
    if let Some(text) = filter.text.as_deref() {
        let pattern = contains_pattern(text);
        let lower = |column: user::Column| -> SimpleExpr { Func::lower(Expr::col(column)).into() };
        let mut any = Condition::any();
        for column in [
            user::Column::Email,
            user::Column::Username,
            user::Column::FirstName,
            user::Column::LastName,
        ] {
            any = any.add(Expr::expr(lower(column)).like(pattern.clone()));
        }
        condition = condition.add(any);
    }
    if let Some(status) = filter.status {
        condition = condition.add(standing_is(status, now));
    }
    if let Some(role) = filter.role {
        condition = condition.add(user::Column::Role.eq(role));
    }
    let query = user::Entity::find().filter(condition);
    let total = query.clone().count(conn).await?;
    let users = query
        .order_by_asc(user::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(conn)
        .await?;
    Ok((users, total))
}

/// A disabled account becomes active again; false when it was not disabled
/// (anymore).
pub async fn reactivate(
    conn: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::Status, Expr::value(AccountStatus::Active))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::Status.eq(AccountStatus::Disabled))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
