//! Tasks, their ranks and positions, assignees and tags.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, JoinType, OnConflict, Order, Query, QueryStatementBuilder,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set, Statement, Unchanged,
};

use super::rows::all;
use crate::boards::{Assignment, RANK_GAP, RankWindow, Task, TaskRef};
use crate::entity::{membership, task, task_assignee, task_tag};

/// A task row with its position computed.
#[derive(FromQueryResult)]
struct TaskRow {
    id: i64,
    title: String,
    description: Option<String>,
    due_date: Option<DateTime<Utc>>,
    position: i64,
    owner_id: i64,
    category_id: i64,
    organization_id: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TaskRow> for Task {
    fn from(t: TaskRow) -> Self {
        Self {
            id: t.id,
            title: t.title,
            description: t.description,
            due_date: t.due_date,
            position: i32::try_from(t.position).unwrap_or(i32::MAX),
            owner_id: t.owner_id,
            category_id: t.category_id,
            organization_id: t.organization_id,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A task row as a write left it (answered by the write itself, `RETURNING`
/// it), its position not counted: the writer knows it ([`Self::at`]).
#[derive(Debug, Clone)]
pub struct Written(task::Model);

impl Written {
    /// The task, at the 1-based `position` its writer knows.
    pub fn at(self, position: i32) -> Task {
        let t = self.0;
        Task {
            id: t.id,
            title: t.title,
            description: t.description,
            due_date: t.due_date,
            position,
            owner_id: t.owner_id,
            category_id: t.category_id,
            organization_id: t.organization_id,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// The 1-based position of the `tasks` row the statement is at: how many
/// tasks of its category rank up to it (a range count on the
/// `(category_id, rank)` index).
fn position_of_row() -> Expr {
    let other = Alias::new("other");
    let mut count = Query::select();
    count
        .expr(Expr::cust("COUNT(*)"))
        .from_as(task::Entity, other.clone())
        .and_where(
            Expr::col((other.clone(), task::Column::CategoryId))
                .equals((task::Entity, task::Column::CategoryId)),
        )
        .and_where(
            Expr::col((other, task::Column::Rank))
                .lte(Expr::col((task::Entity, task::Column::Rank))),
        );
    Expr::SubQuery(None, Box::new(count.into_sub_query_statement()))
}

/// The task, with its position counted (one statement, counting the tasks
/// of its category up to it: for reads, and edits that do not move it;
/// creations and moves answer the position they know instead).
pub async fn by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Task>, DbErr> {
    Ok(task::Entity::find_by_id(id)
        .column_as(position_of_row(), "position")
        .into_model::<TaskRow>()
        .one(conn)
        .await?
        .map(Into::into))
}

/// Where the task is and whose it is, without counting its position (one
/// step on the primary key).
pub async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<Option<TaskRef>, DbErr> {
    let row: Option<(i64, i64, i64, i64, i64)> = task::Entity::find_by_id(id)
        .select_only()
        .columns([
            task::Column::Id,
            task::Column::OwnerId,
            task::Column::CategoryId,
            task::Column::OrganizationId,
            task::Column::Rank,
        ])
        .into_tuple()
        .one(conn)
        .await?;
    Ok(row.map(
        |(id, owner_id, category_id, organization_id, rank)| TaskRef {
            id,
            owner_id,
            category_id,
            organization_id,
            rank,
        },
    ))
}

/// The category's ranks in the `window` (in rank order, or from the last):
/// one statement, a few steps along the `(category_id, rank)` index (past
/// the window's offset of them).
pub async fn ranks(
    conn: &impl ConnectionTrait,
    category_id: i64,
    window: RankWindow,
) -> Result<Vec<i64>, DbErr> {
    let select = task::Entity::find()
        .select_only()
        .column(task::Column::Rank)
        .filter(task::Column::CategoryId.eq(category_id));
    let select = if window.descending {
        select.order_by_desc(task::Column::Rank)
    } else {
        select.order_by_asc(task::Column::Rank)
    };
    select
        .offset(window.offset)
        .limit(window.limit)
        .into_tuple()
        .all(conn)
        .await
}

/// A task's row joined to one rank of a window ([`find_with_ranks`]).
#[derive(FromQueryResult)]
struct RankedRow {
    id: i64,
    owner_id: i64,
    category_id: i64,
    organization_id: i64,
    rank: i64,
    window_rank: Option<i64>,
}

/// [`find`] and [`ranks`] in one statement: the task, and the ranks of
/// `category_id` in the `window` (in its order), each a row of the task's
/// joined to one rank of the window. `None`: no such task.
pub async fn find_with_ranks(
    conn: &impl ConnectionTrait,
    id: i64,
    category_id: i64,
    window: RankWindow,
) -> Result<Option<(TaskRef, Vec<i64>)>, DbErr> {
    use task::Column;
    let order = if window.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let ranks = Query::select()
        .column(Column::Rank)
        .from(task::Entity)
        .and_where(Column::CategoryId.eq(category_id))
        .order_by(Column::Rank, order)
        .limit(window.limit)
        .offset(window.offset)
        .to_owned();
    let window_table = Alias::new("window_ranks");
    let select = Query::select()
        .columns([
            (task::Entity, Column::Id),
            (task::Entity, Column::OwnerId),
            (task::Entity, Column::CategoryId),
            (task::Entity, Column::OrganizationId),
            (task::Entity, Column::Rank),
        ])
        .expr_as(
            Expr::col((window_table.clone(), Column::Rank)),
            Alias::new("window_rank"),
        )
        .from(task::Entity)
        .join_subquery(JoinType::LeftJoin, ranks, window_table, Expr::cust("1 = 1"))
        .and_where(Expr::col((task::Entity, Column::Id)).eq(id))
        .to_owned();
    let statement = conn.get_database_backend().build(&select);
    let rows = RankedRow::find_by_statement(statement).all(conn).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let task = TaskRef {
        id: row.id,
        owner_id: row.owner_id,
        category_id: row.category_id,
        organization_id: row.organization_id,
        rank: row.rank,
    };
    let mut ranks: Vec<i64> = rows.iter().filter_map(|row| row.window_rank).collect();
    ranks.sort_unstable();
    if window.descending {
        ranks.reverse();
    }
    Ok(Some((task, ranks)))
}

/// Renumbers the category's ranks to place × `RANK_GAP` in their order, in
/// two statements on both databases: first every rank to a range below
/// all of them (and below zero), in order, then from there to the final
/// ones; neither statement gives a row a rank another row holds at any
/// moment, so the unique `(category_id, rank)` index never objects midway.
/// A third sets the category's `top_rank` to its highest rank now.
pub async fn renumber(conn: &impl ConnectionTrait, category_id: i64) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let (category, gap) = match backend {
        sea_orm::DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let park = format!(
        "UPDATE tasks SET \"rank\" = r.parked FROM (\
           SELECT id, \
             CASE WHEN MIN(\"rank\") OVER () < 0 THEN MIN(\"rank\") OVER () ELSE 0 END \
             - COUNT(*) OVER () - 1 + ROW_NUMBER() OVER (ORDER BY \"rank\", id) AS parked \
           FROM tasks WHERE category_id = {category}) AS r \
         WHERE tasks.id = r.id"
    );
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        park,
        [category_id.into()],
    ))
    .await?;
    let spread = format!(
        "UPDATE tasks SET \"rank\" = r.n * {gap} FROM (\
           SELECT id, ROW_NUMBER() OVER (ORDER BY \"rank\", id) AS n \
           FROM tasks WHERE category_id = {category}) AS r \
         WHERE tasks.id = r.id"
    );
    let values = match backend {
        sea_orm::DbBackend::Postgres => vec![category_id.into(), RANK_GAP.into()],
        _ => vec![RANK_GAP.into(), category_id.into()],
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, spread, values))
        .await?;
    let top = format!(
        "UPDATE categories SET top_rank = COALESCE(\
           (SELECT MAX(\"rank\") FROM tasks WHERE tasks.category_id = categories.id), 0) \
         WHERE id = {category}"
    );
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        top,
        [category_id.into()],
    ))
    .await?;
    Ok(())
}

/// Puts the task at `rank` of the category, as its latest placement (one
/// more than the category's highest, see [`task::Model::placement`]), and
/// marks it changed: the one task's row a move writes, answered as written
/// (`UPDATE … RETURNING`, one statement). The caller holds the category's
/// lock, so no other writer places a task there meanwhile. `None`: no such
/// task.
pub async fn put(
    conn: &impl ConnectionTrait,
    id: i64,
    category_id: i64,
    rank: i64,
    now: DateTime<Utc>,
) -> Result<Option<Written>, DbErr> {
    let latest = Query::select()
        .expr(Expr::cust(r#"COALESCE(MAX("placement"), 0) + 1"#))
        .from(task::Entity)
        .and_where(task::Column::CategoryId.eq(category_id))
        .to_owned();
    let rows = task::Entity::update_many()
        .col_expr(task::Column::CategoryId, Expr::value(category_id))
        .col_expr(task::Column::Rank, Expr::value(rank))
        .col_expr(
            task::Column::Placement,
            Expr::SubQuery(None, Box::new(latest.into_sub_query_statement())),
        )
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(id))
        .exec_with_returning(conn)
        .await?;
    Ok(rows.into_iter().next().map(Written))
}

/// A task to insert.
#[derive(Debug, Clone)]
pub struct NewTaskRow {
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<DateTime<Utc>>,
    pub owner_id: i64,
    pub category_id: i64,
    pub organization_id: i64,
}

/// Inserts the task at `rank`; answers the row as inserted (the insert
/// returns it), its position not counted: a creation is its category's
/// last.
pub async fn insert(
    conn: &impl ConnectionTrait,
    row: NewTaskRow,
    rank: i64,
    now: DateTime<Utc>,
) -> Result<Written, DbErr> {
    let row = task::ActiveModel {
        title: Set(row.title),
        description: Set(row.description),
        due_date: Set(row.due_date),
        rank: Set(rank),
        owner_id: Set(row.owner_id),
        category_id: Set(row.category_id),
        organization_id: Set(row.organization_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(Written(row))
}

/// Creates the task as its category's last: adds it to the category's
/// count and version and ranks it one [`RANK_GAP`] past the category's
/// `top_rank` (or past its highest rank, if that is higher), raising
/// `top_rank` to that rank, in the update that locks the category's row;
/// then inserts it at that rank. Answers the task as inserted, with the
/// category's count (its position). On PostgreSQL one statement (the
/// update feeds the insert in a data-modifying `WITH`), so the column's
/// lock is held for this statement and the commit only. A creator that
/// waited for the lock reads the row as its holder left it, `top_rank`
/// included, where its read of the tasks is as of the statement's start:
/// every writer that places a task past `top_rank` raises it under the
/// same lock ([`super::boards::raise_top_rank`]), so the rank is past
/// every task's either way. SQLite, which has no writes in a `WITH`, runs
/// the update and the insert one after the other. `None`, and nothing
/// written: no such category in the organization, or no integer left that
/// far past (the caller renumbers the category and creates again).
pub async fn create_last(
    conn: &impl ConnectionTrait,
    row: &NewTaskRow,
    now: DateTime<Utc>,
) -> Result<Option<(Written, i64)>, DbErr> {
    let backend = conn.get_database_backend();
    if backend == sea_orm::DbBackend::Postgres {
        let values = creation_values(row, now);
        let statement = Statement::from_sql_and_values(backend, creation(false), values);
        return match conn.query_one_raw(statement).await? {
            Some(created) => created_task(&created).map(Some),
            None => Ok(None),
        };
    }
    let count = format!(
        "UPDATE categories SET {} WHERE id = ? AND organization_id = ? AND {} \
         RETURNING top_rank, task_count",
        counting("MAX", "?"),
        within_ranks("MAX", "?"),
    );
    let values = [
        RANK_GAP.into(),
        row.category_id.into(),
        row.organization_id.into(),
        (i64::MAX - RANK_GAP).into(),
    ];
    let statement = Statement::from_sql_and_values(backend, count, values);
    let Some(counted) = conn.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let rank: i64 = counted.try_get("", "top_rank")?;
    let count: i64 = counted.try_get("", "task_count")?;
    let task = insert(conn, row.clone(), rank, now).await?;
    Ok(Some((task, count)))
}

/// What [`create_on_board`] did.
#[derive(Debug)]
pub enum BoardCreation {
    /// The task as inserted, and its category's count.
    Created(Written, i64),
    /// No such organization, or the user is not a member of it.
    NotMember,
    /// Nothing written, and nothing decided: the statement's snapshot is
    /// older than the board's lock (a change of the board, perhaps of the
    /// user's membership, came between), the category is unknown or
    /// another board's, or no rank is left past its last. The caller
    /// creates in a transaction ([`create_last`] under the board's shared
    /// lock), which decides each case. On SQLite, always (nothing run).
    Undecided,
}

/// Creates the task as [`create_last`] does, under the board's shared lock
/// taken in the same statement, with `user_id`'s role as of the lock (as
/// `super::boards::share_organization` reads it): on PostgreSQL one
/// statement, outside any transaction, so the column's lock is held for
/// that statement's execution and its commit, with no turn through the
/// caller in between. The board's lock is taken first, then the column's,
/// as in a transaction. This is the one change of a board that does not go
/// through the board's guard (`boards::guard`): the guard's check is made
/// here, and what the guard would read again is left undecided.
pub async fn create_on_board(
    conn: &impl ConnectionTrait,
    user_id: i64,
    row: &NewTaskRow,
    now: DateTime<Utc>,
) -> Result<BoardCreation, DbErr> {
    let backend = conn.get_database_backend();
    if backend != sea_orm::DbBackend::Postgres {
        return Ok(BoardCreation::Undecided);
    }
    let mut values = creation_values(row, now);
    values.push(user_id.into());
    let statement = Statement::from_sql_and_values(backend, creation(true), values);
    let Some(read) = conn.query_one_raw(statement).await? else {
        return Ok(BoardCreation::NotMember);
    };
    let role: Option<membership::OrganizationRole> = read.try_get("", "role")?;
    let current: bool = read.try_get("", "current")?;
    let created: Option<i64> = read.try_get("", "task_count")?;
    Ok(match (current, role, created) {
        (true, Some(_), Some(_)) => {
            let (task, count) = created_task(&read)?;
            BoardCreation::Created(task, count)
        }
        (true, None, _) => BoardCreation::NotMember,
        _ => BoardCreation::Undecided,
    })
}

/// The highest rank in the column of the statement's `categories` row, as
/// the statement's snapshot has it.
const HIGHEST_RANK: &str = "(SELECT COALESCE(MAX(\"rank\"), 0) FROM tasks \
     WHERE tasks.category_id = categories.id)";

/// The assignments of the update that counts a task created in a category
/// and ranks it ([`create_last`]); `greatest`: the database's maximum of
/// two values, `gap`: the placeholder of [`RANK_GAP`].
fn counting(greatest: &str, gap: &str) -> String {
    format!(
        "task_count = task_count + 1, version = version + 1, \
         top_rank = {greatest}(top_rank, {HIGHEST_RANK}) + {gap}"
    )
}

/// The condition that a rank is left one gap past the category's: `limit`
/// is the placeholder of the highest rank that leaves one.
fn within_ranks(greatest: &str, limit: &str) -> String {
    format!("{greatest}(top_rank, {HIGHEST_RANK}) <= {limit}")
}

/// PostgreSQL's creation statement ([`create_last`]; with `board`,
/// [`create_on_board`]): the update that counts and ranks feeds the
/// insert. Its values ([`creation_values`]): $1 the category, $2 the
/// organization, $3 [`RANK_GAP`], $4 the highest rank that leaves one gap,
/// $5-$8 the task's fields, $9 the time; with `board`, $10 the user.
fn creation(board: bool) -> String {
    let set = counting("GREATEST", "$3");
    let within = within_ranks("GREATEST", "$4");
    let insert = "INSERT INTO tasks (title, description, due_date, \"rank\", owner_id, \
         category_id, organization_id, created_at, updated_at) \
         SELECT $5, $6, $7, counted.top_rank, $8, $1, $2, $9, $9 FROM counted RETURNING *";
    if !board {
        return format!(
            "WITH counted AS (UPDATE categories SET {set} \
               WHERE id = $1 AND organization_id = $2 AND {within} \
               RETURNING top_rank, task_count), \
             created AS ({insert}) \
             SELECT created.*, counted.task_count FROM created, counted"
        );
    }
    format!(
        "WITH board AS (SELECT organizations.id, organizations.board_version, \
           (SELECT role FROM memberships WHERE memberships.organization_id = organizations.id \
             AND memberships.user_id = $10) AS role, \
           (SELECT seen.board_version FROM organizations AS seen \
             WHERE seen.id = organizations.id) AS seen_version \
           FROM organizations WHERE organizations.id = $2 FOR SHARE OF organizations), \
         counted AS (UPDATE categories SET {set} FROM board \
           WHERE categories.id = $1 AND categories.organization_id = board.id \
             AND board.role IS NOT NULL AND board.seen_version = board.board_version \
             AND {within} \
           RETURNING categories.top_rank, categories.task_count), \
         created AS ({insert}) \
         SELECT board.role, board.seen_version = board.board_version AS current, \
           created.*, counted.task_count \
         FROM board LEFT JOIN counted ON true LEFT JOIN created ON true"
    )
}

/// The values of [`creation`]'s statement, but the user.
fn creation_values(row: &NewTaskRow, now: DateTime<Utc>) -> Vec<sea_orm::Value> {
    vec![
        row.category_id.into(),
        row.organization_id.into(),
        RANK_GAP.into(),
        (i64::MAX - RANK_GAP).into(),
        row.title.clone().into(),
        row.description.clone().into(),
        row.due_date.into(),
        row.owner_id.into(),
        now.into(),
    ]
}

/// The task and its category's count, from a row of [`creation`].
fn created_task(row: &sea_orm::QueryResult) -> Result<(Written, i64), DbErr> {
    let count: i64 = row.try_get("", "task_count")?;
    Ok((Written(task::Model::from_query_result(row, "")?), count))
}

/// Fields of a task to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct TaskFields {
    pub title: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` clears the due date.
    pub due_date: Option<Option<DateTime<Utc>>>,
}

/// Changes the given fields and `updated_at`; answers the row as it now is
/// (returned by the update), its position not counted.
pub async fn update_fields(
    conn: &impl ConnectionTrait,
    id: i64,
    fields: TaskFields,
    now: DateTime<Utc>,
) -> Result<Written, DbErr> {
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
    Ok(Written(row.update(conn).await?))
}

pub async fn touch(conn: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    task::Entity::update_many()
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes every task of the category, with their tag and assignee links
/// (the category goes with them: no count is left to keep).
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

/// Deletes the task with its tag and assignee links; its category's count
/// is the caller's to keep ([`super::boards::uncount_task_in`]). Answers
/// whether a task was deleted.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    task_tag::Entity::delete_many()
        .filter(task_tag::Column::TaskId.eq(id))
        .exec(conn)
        .await?;
    task_assignee::Entity::delete_many()
        .filter(task_assignee::Column::TaskId.eq(id))
        .exec(conn)
        .await?;
    let deleted = task::Entity::delete_by_id(id).exec(conn).await?;
    Ok(deleted.rows_affected > 0)
}

pub async fn assignees(
    conn: &impl ConnectionTrait,
    task_ids: &[i64],
) -> Result<Vec<Assignment>, DbErr> {
    let rows = task_assignee::Entity::find()
        .filter(task_assignee::Column::TaskId.is_in(super::in_list(task_ids.iter().copied())))
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
