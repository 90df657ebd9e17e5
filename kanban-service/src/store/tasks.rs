//! Tasks, their positions, assignees and tags.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Unchanged,
};

use super::rows::all;
use crate::boards::{Assignment, Shift, Task};
use crate::entity::{task, task_assignee, task_tag};

pub async fn by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Task>, DbErr> {
    Ok(task::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Into::into))
}

/// The category's last position (0 when it is empty), which is its number
/// of tasks since positions are dense 1..n under the locks that change
/// them: one step down the `(category_id, position)` index instead of a
/// count, whatever the column's length.
pub async fn last_position(conn: &impl ConnectionTrait, category_id: i64) -> Result<u64, DbErr> {
    let last: Option<Option<i32>> = task::Entity::find()
        .select_only()
        .column_as(task::Column::Position.max(), "last")
        .filter(task::Column::CategoryId.eq(category_id))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(u64::try_from(last.flatten().unwrap_or(0)).unwrap_or(0))
}

/// Applies the shift to the category's positions, in one statement.
pub async fn shift(conn: &impl ConnectionTrait, shift: Shift) -> Result<(), DbErr> {
    let mut update = task::Entity::update_many()
        .col_expr(
            task::Column::Position,
            Expr::col(task::Column::Position).add(shift.by),
        )
        .filter(task::Column::CategoryId.eq(shift.category_id))
        .filter(task::Column::Position.gte(shift.from));
    if let Some(to) = shift.to {
        update = update.filter(task::Column::Position.lte(to));
    }
    update.exec(conn).await?;
    Ok(())
}

/// Puts the task at `position` of the category and marks it changed.
pub async fn put(
    conn: &impl ConnectionTrait,
    id: i64,
    category_id: i64,
    position: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    task::Entity::update_many()
        .col_expr(task::Column::CategoryId, Expr::value(category_id))
        .col_expr(task::Column::Position, Expr::value(position))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// A task to insert.
#[derive(Debug, Clone)]
pub struct NewTaskRow {
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<DateTime<Utc>>,
    pub position: i32,
    pub owner_id: i64,
    pub category_id: i64,
    pub organization_id: i64,
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    row: NewTaskRow,
    now: DateTime<Utc>,
) -> Result<Task, DbErr> {
    let row = task::ActiveModel {
        title: Set(row.title),
        description: Set(row.description),
        due_date: Set(row.due_date),
        position: Set(row.position),
        owner_id: Set(row.owner_id),
        category_id: Set(row.category_id),
        organization_id: Set(row.organization_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.into())
}

/// Fields of a task to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct TaskFields {
    pub title: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` clears the due date.
    pub due_date: Option<Option<DateTime<Utc>>>,
}

/// Changes the given fields and `updated_at`; answers the task as it now is.
pub async fn update_fields(
    conn: &impl ConnectionTrait,
    id: i64,
    fields: TaskFields,
    now: DateTime<Utc>,
) -> Result<Task, DbErr> {
    let row = task::ActiveModel {
        id: Unchanged(id),
        title: fields.title.map_or(ActiveValue::NotSet, Set),
        description: fields
            .description
            .map_or(ActiveValue::NotSet, |d| Set(Some(d))),
        due_date: fields.due_date.map_or(ActiveValue::NotSet, Set),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.update(conn).await?.into())
}

pub async fn touch(conn: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    task::Entity::update_many()
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes every task of the category, with their tag and assignee links.
pub async fn delete_in_category(
    conn: &impl ConnectionTrait,
    category_id: i64,
) -> Result<(), DbErr> {
    let tasks_of = || {
        Query::select()
            .column(task::Column::Id)
            .from(task::Entity)
            .and_where(task::Column::CategoryId.eq(category_id))
            .to_owned()
    };
    task_tag::Entity::delete_many()
        .filter(task_tag::Column::TaskId.in_subquery(tasks_of()))
        .exec(conn)
        .await?;
    task_assignee::Entity::delete_many()
        .filter(task_assignee::Column::TaskId.in_subquery(tasks_of()))
        .exec(conn)
        .await?;
    task::Entity::delete_many()
        .filter(task::Column::CategoryId.eq(category_id))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    task_tag::Entity::delete_many()
        .filter(task_tag::Column::TaskId.eq(id))
        .exec(conn)
        .await?;
    task_assignee::Entity::delete_many()
        .filter(task_assignee::Column::TaskId.eq(id))
        .exec(conn)
        .await?;
    task::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

pub async fn assignees(
    conn: &impl ConnectionTrait,
    task_ids: &[i64],
) -> Result<Vec<Assignment>, DbErr> {
    let rows = task_assignee::Entity::find()
        .filter(task_assignee::Column::TaskId.is_in(task_ids.iter().copied()))
        .order_by_asc(task_assignee::Column::UserId)
        .all(conn)
        .await?;
    Ok(all(rows))
}

pub async fn add_assignee(
    conn: &impl ConnectionTrait,
    task_id: i64,
    user_id: i64,
) -> Result<(), DbErr> {
    let row = task_assignee::ActiveModel {
        task_id: Set(task_id),
        user_id: Set(user_id),
    };
    task_assignee::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([task_assignee::Column::TaskId, task_assignee::Column::UserId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

pub async fn remove_assignee(
    conn: &impl ConnectionTrait,
    task_id: i64,
    user_id: i64,
) -> Result<u64, DbErr> {
    Ok(task_assignee::Entity::delete_by_id((task_id, user_id))
        .exec(conn)
        .await?
        .rows_affected)
}

pub async fn add_tag(conn: &impl ConnectionTrait, task_id: i64, tag_id: i64) -> Result<(), DbErr> {
    let row = task_tag::ActiveModel {
        task_id: Set(task_id),
        tag_id: Set(tag_id),
    };
    task_tag::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([task_tag::Column::TaskId, task_tag::Column::TagId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

pub async fn remove_tag(
    conn: &impl ConnectionTrait,
    task_id: i64,
    tag_id: i64,
) -> Result<u64, DbErr> {
    Ok(task_tag::Entity::delete_by_id((task_id, tag_id))
        .exec(conn)
        .await?
        .rows_affected)
}
