//! Organizations, memberships, categories and tags.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, DynIden, Expr, ExprTrait, IntoIden, JoinType, LockType, Order,
    Query, QueryStatementBuilder, SelectStatement, UnionType, WithClause,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr,
    EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Set, Unchanged,
};

use super::rows::all;
use super::{in_list, null};
use crate::boards::{
    BoardVersion, Category, CategoryKind, Membership, Organization, OrganizationRole, Page, Tag,
    TaskRef,
};
use crate::entity::{
    category, invitation, membership, organization, people_version, tag, task, task_assignee,
    task_tag,
};

/// `Set` when given, else left as it is.
fn set_given<T: Into<sea_orm::Value>>(value: Option<T>) -> ActiveValue<T> {
    value.map_or(ActiveValue::NotSet, Set)
}

pub async fn role(
    conn: &impl ConnectionTrait,
    organization_id: i64,
    user_id: i64,
) -> Result<Option<OrganizationRole>, DbErr> {
    Ok(membership::Entity::find_by_id((organization_id, user_id))
        .one(conn)
        .await?
        .map(|m| m.role.into()))
}

/// The row that names a board: the organization itself, or one of its
/// categories or tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardOf {
    Organization(i64),
    Category(i64),
    Tag(i64),
}

/// A board found through a row that names it, with its version and the
/// caller's role there.
#[derive(FromQueryResult)]
struct VersionRow {
    organization_id: i64,
    board: i64,
    columns: i64,
    placements: i64,
    people: i64,
    role: Option<membership::OrganizationRole>,
}

/// The board `named` names: its organization's id, its [`BoardVersion`]
/// and the user's role there (`None`: not a member), in one statement;
/// `None` when there is no such row. The version's parts: the
/// organization's own, the sum of its categories', the sum of their latest
/// placements (each found in one step of an index) and the people's.
pub async fn board_version(
    conn: &impl ConnectionTrait,
    named: BoardOf,
    user_id: i64,
) -> Result<Option<(i64, BoardVersion, Option<OrganizationRole>)>, DbErr> {
    let organization_column = |column| Expr::col((organization::Entity, column));
    let columns = Query::select()
        .expr(Expr::cust(
            r#"CAST(COALESCE(SUM("categories"."version"), 0) AS BIGINT)"#,
        ))
        .from(category::Entity)
        .and_where(
            Expr::col((category::Entity, category::Column::OrganizationId))
                .equals((organization::Entity, organization::Column::Id)),
        )
        .to_owned();
    let placements = Query::select()
        .expr(Expr::cust(
            r#"CAST(COALESCE(SUM((SELECT MAX("tasks"."placement") FROM "tasks" WHERE "tasks"."category_id" = "categories"."id")), 0) AS BIGINT)"#,
        ))
        .from(category::Entity)
        .and_where(
            Expr::col((category::Entity, category::Column::OrganizationId))
                .equals((organization::Entity, organization::Column::Id)),
        )
        .to_owned();
    let people = Query::select()
        .column(people_version::Column::Version)
        .from(people_version::Entity)
        .and_where(Expr::col(people_version::Column::Id).eq(super::users::PEOPLE))
        .to_owned();
    let mut select = Query::select();
    select
        .expr_as(
            organization_column(organization::Column::Id),
            Alias::new("organization_id"),
        )
        .expr_as(
            organization_column(organization::Column::BoardVersion),
            Alias::new("board"),
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(columns.into_sub_query_statement())),
            Alias::new("columns"),
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(placements.into_sub_query_statement())),
            Alias::new("placements"),
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(people.into_sub_query_statement())),
            Alias::new("people"),
        )
        .column((membership::Entity, membership::Column::Role))
        .from(organization::Entity)
        .left_join(
            membership::Entity,
            Condition::all()
                .add(
                    Expr::col((membership::Entity, membership::Column::OrganizationId))
                        .equals((organization::Entity, organization::Column::Id)),
                )
                .add(Expr::col((membership::Entity, membership::Column::UserId)).eq(user_id)),
        );
    // The naming row, as `named` (the version's subquery reads `categories`).
    let named_row = Alias::new("named");
    let mut join_named = |table: DynIden, organization_id: DynIden, id: DynIden, value: i64| {
        select
            .join_as(
                JoinType::InnerJoin,
                table,
                named_row.clone(),
                Expr::col((named_row.clone(), organization_id))
                    .equals((organization::Entity, organization::Column::Id)),
            )
            .and_where(Expr::col((named_row.clone(), id)).eq(value));
    };
    match named {
        BoardOf::Organization(id) => {
            select.and_where(organization_column(organization::Column::Id).eq(id));
        }
        BoardOf::Category(id) => join_named(
            category::Entity.into_iden(),
            category::Column::OrganizationId.into_iden(),
            category::Column::Id.into_iden(),
            id,
        ),
        BoardOf::Tag(id) => join_named(
            tag::Entity.into_iden(),
            tag::Column::OrganizationId.into_iden(),
            tag::Column::Id.into_iden(),
            id,
        ),
    }
    let statement = conn.get_database_backend().build(&select);
    Ok(VersionRow::find_by_statement(statement)
        .one(conn)
        .await?
        .map(|row| {
            let version = BoardVersion {
                board: row.board,
                columns: row.columns,
                placements: row.placements,
                people: row.people,
            };
            (row.organization_id, version, row.role.map(Into::into))
        }))
}

/// A page of the user's organizations, newest first, with their
/// categories (by position, then id) and tags (by id), and how many
/// organizations the user has: one statement. The page is a common table
/// expression (its total a window over the same match), and its
/// organizations, their categories and their tags are the three arms of one
/// `UNION ALL`: the organization list's cost is its round trips.
pub async fn boards_of_member(
    conn: &impl ConnectionTrait,
    user_id: i64,
    page: Page,
) -> Result<(Parts, u64), DbErr> {
    let o = |column: organization::Column| (organization::Entity, column);
    let listed = Query::select()
        .columns([
            o(organization::Column::Id),
            o(organization::Column::Name),
            o(organization::Column::Description),
            o(organization::Column::UserId),
            o(organization::Column::CreatedAt),
            o(organization::Column::UpdatedAt),
        ])
        .expr_as(Expr::cust("COUNT(*) OVER ()"), Alias::new("total"))
        .from(organization::Entity)
        .inner_join(
            membership::Entity,
            Condition::all()
                .add(
                    Expr::col((membership::Entity, membership::Column::OrganizationId))
                        .equals(o(organization::Column::Id)),
                )
                .add(Expr::col((membership::Entity, membership::Column::UserId)).eq(user_id)),
        )
        .order_by(o(organization::Column::Id), Order::Desc)
        .limit(page.limit)
        .offset(page.offset)
        .to_owned();
    let page_table = Alias::new("listed");
    let listed = CommonTableExpression::new()
        .query(listed)
        .columns(
            [
                "id",
                "name",
                "description",
                "user_id",
                "created_at",
                "updated_at",
                "total",
            ]
            .map(Alias::new),
        )
        .table_name(page_table.clone())
        .to_owned();
    let listed_ids = Query::select()
        .column(organization::Column::Id)
        .from(page_table.clone())
        .to_owned();
    let mut organizations = Query::select();
    organizations
        .expr_as(Expr::cust("'o'"), Alias::new("part"))
        .column(organization::Column::Id)
        .column(organization::Column::Name)
        .expr_as(null("TEXT"), Alias::new("kind"))
        .expr_as(null("TEXT"), Alias::new("color"))
        .expr_as(
            Expr::col(organization::Column::Description),
            Alias::new("description"),
        )
        .expr_as(
            Expr::col(organization::Column::Id),
            Alias::new("organization_id"),
        )
        .expr_as(null("INTEGER"), Alias::new("position"))
        .expr_as(
            Expr::col(organization::Column::UserId),
            Alias::new("user_id"),
        )
        .column(organization::Column::CreatedAt)
        .column(organization::Column::UpdatedAt)
        .expr_as(Expr::col(Alias::new("total")), Alias::new("total"))
        .from(page_table);
    let mut select = parts_select(|organization| organization.in_subquery(listed_ids.clone()));
    select.union(UnionType::All, organizations);
    let statement = conn
        .get_database_backend()
        .build(&select.with(WithClause::new().cte(listed).to_owned()));
    let mut total = None;
    let mut parts = Parts::default();
    for row in PartRow::find_by_statement(statement).all(conn).await? {
        if row.part == "o" {
            total = total.or(row.total);
        }
        parts.push(row);
    }
    // Newest first, as the page was cut.
    parts
        .organizations
        .sort_unstable_by_key(|organization| std::cmp::Reverse(organization.id));
    let total = match total {
        Some(total) => total as u64,
        // Past the end: the window had no row to ride on.
        None if page.offset > 0 => {
            membership::Entity::find()
                .filter(membership::Column::UserId.eq(user_id))
                .count(conn)
                .await?
        }
        None => 0,
    };
    Ok((parts, total))
}

pub async fn organization(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<Organization>, DbErr> {
    Ok(organization::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Into::into))
}

/// The organizations with these ids (those that exist).
pub async fn organizations(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<Organization>, DbErr> {
    let rows = organization::Entity::find()
        .filter(organization::Column::Id.is_in(in_list(ids)))
        .all(conn)
        .await?;
    Ok(all(rows))
}

/// Makes `owner` the organization's owner (`UserId`).
pub async fn set_owner(
    conn: &impl ConnectionTrait,
    id: i64,
    owner: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    organization::Entity::update_many()
        .col_expr(organization::Column::UserId, Expr::value(owner))
        .col_expr(organization::Column::UpdatedAt, Expr::value(now))
        .filter(organization::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The user's organizations, newest first, each with its board's version
/// (what an organization list shows of them changes only under
/// [`lock_organization`], which adds one to it): one statement, over the
/// user's memberships.
pub async fn member_board_versions(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<(i64, i64)>, DbErr> {
    organization::Entity::find()
        .select_only()
        .column(organization::Column::Id)
        .column(organization::Column::BoardVersion)
        .filter(
            organization::Column::Id.in_subquery(
                Query::select()
                    .column(membership::Column::OrganizationId)
                    .from(membership::Entity)
                    .and_where(membership::Column::UserId.eq(user_id))
                    .to_owned(),
            ),
        )
        .order_by_desc(organization::Column::Id)
        .into_tuple()
        .all(conn)
        .await
}

/// Locks the organization's row until the transaction ends and answers
/// it: the one lock every change of a board takes first. The lock is an
/// update that adds one to the board's version (`UPDATE … RETURNING`, one
/// statement), so whatever the change writes under it is a new version of
/// the board's lists ([`BoardVersion`]), committed or rolled back with it.
/// On PostgreSQL the update takes `FOR NO KEY UPDATE`, which conflicts with
/// itself and with the shared lock ([`share_organization`]); SQLite
/// transactions are serialised already.
pub async fn lock_organization(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<Organization>, DbErr> {
    let rows = organization::Entity::update_many()
        .col_expr(
            organization::Column::BoardVersion,
            Expr::col(organization::Column::BoardVersion).add(1),
        )
        .filter(organization::Column::Id.eq(id))
        .exec_with_returning(conn)
        .await?;
    Ok(rows.into_iter().next().map(Into::into))
}

/// [`lock_organization`] with `user_id`'s role there as of the lock (`None`:
/// not a member), read in the same statement when no change of the board
/// came between the statement's start and its lock: the update returns it
/// with the version the statement's snapshot saw, and where that version
/// is not the one the update found, a change committed while the update
/// waited for the row (as [`share_organization`] finds) and the role is
/// read again under the lock. SQLite transactions are serialised already.
pub async fn lock_organization_for(
    conn: &impl ConnectionTrait,
    id: i64,
    user_id: i64,
) -> Result<Option<(Organization, Option<OrganizationRole>)>, DbErr> {
    let backend = conn.get_database_backend();
    let (sql, values) = match backend {
        DbBackend::Postgres => (
            "UPDATE organizations SET board_version = board_version + 1 WHERE id = $1 \
             RETURNING id, name, description, user_id, board_version, created_at, updated_at, \
             (SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2) AS role, \
             (SELECT seen.board_version + 1 FROM organizations AS seen WHERE seen.id = $1) \
             AS seen_version",
            vec![id.into(), user_id.into()],
        ),
        _ => (
            "UPDATE organizations SET board_version = board_version + 1 WHERE id = ? \
             RETURNING id, name, description, user_id, board_version, created_at, updated_at, \
             (SELECT role FROM memberships WHERE organization_id = ? AND user_id = ?) AS role, \
             board_version AS seen_version",
            vec![id.into(), id.into(), user_id.into()],
        ),
    };
    let statement = sea_orm::Statement::from_sql_and_values(backend, sql, values);
    let Some(row) = SharedRow::find_by_statement(statement).one(conn).await? else {
        return Ok(None);
    };
    let role = match row.current() {
        true => row.role.map(Into::into),
        false => self::role(conn, id, user_id).await?,
    };
    Ok(Some((row.organization(), role)))
}

/// An organization read under the board's lock ([`shared_board`],
/// [`lock_organization_for`]): the row as locked, the user's role and the
/// organization's version as the statement's snapshot saw them (after the
/// update, for the exclusive lock).
#[derive(FromQueryResult)]
struct SharedRow {
    id: i64,
    name: String,
    description: String,
    user_id: i64,
    board_version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    role: Option<membership::OrganizationRole>,
    seen_version: i64,
}

impl SharedRow {
    /// The role it read is the role as of the lock: no change of the board
    /// came between the statement's snapshot and its lock.
    fn current(&self) -> bool {
        self.seen_version == self.board_version
    }

    fn organization(self) -> Organization {
        Organization {
            id: self.id,
            name: self.name,
            description: self.description,
            user_id: self.user_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A task of the board read with the shared lock ([`share_board_of_task`]),
/// joined to one of its assignees.
#[derive(FromQueryResult)]
struct SharedTaskRow {
    task_id: i64,
    owner_id: i64,
    category_id: i64,
    rank: i64,
    assignee_id: Option<i64>,
}

/// What a board's shared lock is taken through.
#[derive(Debug, Clone, Copy)]
enum SharedThrough {
    Organization(i64),
    /// The board of the task, read with its assignees.
    Task(i64),
}

/// The statement that locks a board's organization in share mode (on
/// PostgreSQL; SQLite transactions are serialised already) and reads it
/// with `user_id`'s role there and its version in the statement's snapshot
/// ([`SharedRow`]); through a task, each row also has the task and one of
/// its assignees ([`SharedTaskRow`]).
async fn shared_board(
    conn: &impl ConnectionTrait,
    through: SharedThrough,
    user_id: i64,
) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
    use organization::Column;
    let o = |column: Column| (organization::Entity, column);
    let role = Query::select()
        .column(membership::Column::Role)
        .from(membership::Entity)
        .and_where(
            Expr::col((membership::Entity, membership::Column::OrganizationId))
                .equals(o(Column::Id)),
        )
        .and_where(Expr::col((membership::Entity, membership::Column::UserId)).eq(user_id))
        .to_owned();
    let seen = Alias::new("seen");
    let seen_version = Query::select()
        .column((seen.clone(), Column::BoardVersion))
        .from_as(organization::Entity, seen.clone())
        .and_where(Expr::col((seen, Column::Id)).equals(o(Column::Id)))
        .to_owned();
    let mut select = Query::select();
    select
        .columns([
            o(Column::Id),
            o(Column::Name),
            o(Column::Description),
            o(Column::UserId),
            o(Column::BoardVersion),
            o(Column::CreatedAt),
            o(Column::UpdatedAt),
        ])
        .expr_as(
            Expr::SubQuery(None, Box::new(role.into_sub_query_statement())),
            Alias::new("role"),
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(seen_version.into_sub_query_statement())),
            Alias::new("seen_version"),
        )
        .from(organization::Entity);
    match through {
        SharedThrough::Organization(id) => {
            select.and_where(Expr::col(o(Column::Id)).eq(id));
        }
        SharedThrough::Task(id) => {
            let t = |column: task::Column| (task::Entity, column);
            select
                .expr_as(Expr::col(t(task::Column::Id)), Alias::new("task_id"))
                .column(t(task::Column::OwnerId))
                .column(t(task::Column::CategoryId))
                .column(t(task::Column::Rank))
                .expr_as(
                    Expr::col((task_assignee::Entity, task_assignee::Column::UserId)),
                    Alias::new("assignee_id"),
                )
                .inner_join(
                    task::Entity,
                    Expr::col(t(task::Column::OrganizationId)).equals(o(Column::Id)),
                )
                .left_join(
                    task_assignee::Entity,
                    Expr::col((task_assignee::Entity, task_assignee::Column::TaskId))
                        .equals(t(task::Column::Id)),
                )
                .and_where(Expr::col(t(task::Column::Id)).eq(id));
        }
    }
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres {
        select.lock_with_tables(LockType::Share, [organization::Entity.into_iden()]);
    }
    conn.query_all_raw(backend.build(&select)).await
}

/// Reads the organization and locks its row in share mode until the
/// transaction ends, with `user_id`'s role there as of the lock (`None`:
/// not a member): changes that only add to the board (a task appended to a
/// column, a move) share it with each other; every other change of the
/// board, every change of its members among them, takes it exclusively
/// ([`lock_organization`], which adds one to its version) and waits for
/// them.
///
/// One statement when no such change came between the statement's start
/// and its lock, the usual case. On PostgreSQL a statement reads through
/// the snapshot taken at its start, and only the locked row is read again
/// when it had to wait for the lock: so the role is read with the version
/// in the snapshot, and where that version is older than the locked row's,
/// a change of the board (perhaps of this very membership) committed in
/// between, and the role is read again under the lock (a second
/// statement). SQLite transactions are serialised already.
pub async fn share_organization(
    conn: &impl ConnectionTrait,
    id: i64,
    user_id: i64,
) -> Result<Option<(Organization, Option<OrganizationRole>)>, DbErr> {
    let rows = shared_board(conn, SharedThrough::Organization(id), user_id).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let row = SharedRow::from_query_result(row, "")?;
    let role = match row.current() {
        true => row.role.map(Into::into),
        false => self::role(conn, id, user_id).await?,
    };
    Ok(Some((row.organization(), role)))
}

/// A task's board locked in share mode as [`share_organization`] locks it,
/// with the task and its assignees' ids (ascending). Read in the same
/// statement when no change of the board came between the statement's
/// start and its lock: assignees too change only under the board's
/// exclusive lock. The task's category and rank are as the statement's
/// snapshot saw them: they change under the locks of its columns, which
/// the caller takes next. `None`: no such task.
pub async fn share_board_of_task(
    conn: &impl ConnectionTrait,
    task_id: i64,
    user_id: i64,
) -> Result<Option<SharedTask>, DbErr> {
    let rows = shared_board(conn, SharedThrough::Task(task_id), user_id).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let board = SharedRow::from_query_result(first, "")?;
    let seen = SharedTaskRow::from_query_result(first, "")?;
    let task = TaskRef {
        id: seen.task_id,
        owner_id: seen.owner_id,
        category_id: seen.category_id,
        organization_id: board.id,
        rank: seen.rank,
    };
    let (role, assignees) = if board.current() {
        let mut assignees = Vec::with_capacity(rows.len());
        for row in &rows {
            assignees.extend(SharedTaskRow::from_query_result(row, "")?.assignee_id);
        }
        assignees.sort_unstable();
        (board.role.map(Into::into), assignees)
    } else {
        let role = self::role(conn, board.id, user_id).await?;
        let assignees = super::tasks::assignees(conn, &[task_id]).await?;
        (role, assignees.iter().map(|a| a.user_id).collect())
    };
    Ok(Some(SharedTask {
        organization: board.organization(),
        role,
        task,
        assignees,
    }))
}

/// A task's board as [`share_board_of_task`] locks it.
#[derive(Debug, Clone)]
pub struct SharedTask {
    pub organization: Organization,
    /// The user's role, as of the lock (`None`: not a member).
    pub role: Option<OrganizationRole>,
    /// The task as it was when the lock was asked for.
    pub task: TaskRef,
    /// Its assignees' ids (ascending), as of the lock.
    pub assignees: Vec<i64>,
}

/// Locks the category's row until the transaction ends, for a change of
/// its column under the board's shared lock (a move), and answers it. The
/// row is locked, not written (`SELECT … FOR UPDATE` on PostgreSQL; SQLite
/// transactions are serialised already): the movers of a busy column wait
/// on a row that stays as it is, so each takes it in turn as soon as the
/// one before commits. What the move changes shows in the moved task's
/// placement ([`super::tasks::put`]), not in the category's version. Only
/// a move that places its task past the category's `top_rank` (one to the
/// end, mostly) writes the row too ([`raise_top_rank`]).
pub async fn lock_category(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<Category>, DbErr> {
    let select = category::Entity::find_by_id(id);
    let row = match conn.get_database_backend() {
        DbBackend::Postgres => select.lock_exclusive().one(conn).await?,
        _ => select.one(conn).await?,
    };
    Ok(row.map(Into::into))
}

/// Raises the category's `top_rank` to `rank`, for a task placed there
/// past it (see [`super::tasks::create_last`]; the caller holds the
/// category's lock or the board's exclusively); writes nothing when it is
/// at or above `rank` already.
pub async fn raise_top_rank(conn: &impl ConnectionTrait, id: i64, rank: i64) -> Result<(), DbErr> {
    category::Entity::update_many()
        .col_expr(category::Column::TopRank, Expr::value(rank))
        .filter(category::Column::Id.eq(id))
        .filter(category::Column::TopRank.lt(rank))
        .exec(conn)
        .await?;
    Ok(())
}

/// Takes one from the category's number of tasks, for a task deleted from
/// it (the caller holds the board's lock exclusively).
pub async fn uncount_task_in(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    category::Entity::update_many()
        .col_expr(
            category::Column::TaskCount,
            Expr::col(category::Column::TaskCount).sub(1),
        )
        .filter(category::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Moves one task's count from `source` to `target` (a task moved between
/// them, to `rank` in `target`; the caller holds both categories' locks or
/// the board's exclusively), adds one to both versions ([`BoardVersion`])
/// and raises the target's `top_rank` to `rank` when it is below (as
/// [`raise_top_rank`]), in one statement; answers the target's count now.
pub async fn move_task_count(
    conn: &impl ConnectionTrait,
    source: i64,
    target: i64,
    rank: i64,
) -> Result<i64, DbErr> {
    let change = Expr::case(category::Column::Id.eq(target), 1).finally(-1);
    let raised = category::Column::Id
        .eq(target)
        .and(category::Column::TopRank.lt(rank));
    let rows = category::Entity::update_many()
        .col_expr(
            category::Column::TaskCount,
            Expr::col(category::Column::TaskCount).add(change),
        )
        .col_expr(
            category::Column::TopRank,
            Expr::case(raised, rank)
                .finally(Expr::col(category::Column::TopRank))
                .into(),
        )
        .col_expr(
            category::Column::Version,
            Expr::col(category::Column::Version).add(1),
        )
        .filter(category::Column::Id.is_in([source, target]))
        .exec_with_returning(conn)
        .await?;
    rows.into_iter()
        .find(|c| c.id == target)
        .map(|c| c.task_count)
        .ok_or_else(|| DbErr::RecordNotFound(format!("category {target}")))
}

/// The category's number of tasks (one step on the primary key).
pub async fn task_count(conn: &impl ConnectionTrait, id: i64) -> Result<i64, DbErr> {
    let count: Option<i64> = category::Entity::find_by_id(id)
        .select_only()
        .column(category::Column::TaskCount)
        .into_tuple()
        .one(conn)
        .await?;
    count.ok_or_else(|| DbErr::RecordNotFound(format!("category {id}")))
}

/// An organization, a category or a tag (`part`: `o`, `c` or `t`), read
/// in one statement; the columns a part does not have are NULL.
#[derive(FromQueryResult)]
struct PartRow {
    part: String,
    id: i64,
    name: String,
    kind: Option<String>,
    color: Option<String>,
    description: Option<String>,
    organization_id: i64,
    position: Option<i32>,
    user_id: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    total: Option<i64>,
}

/// Organizations with their categories and tags, as read in one
/// statement, not yet put together.
#[derive(Debug, Default)]
pub struct Parts {
    pub organizations: Vec<Organization>,
    /// By position, then id.
    pub categories: Vec<Category>,
    /// By id.
    pub tags: Vec<Tag>,
}

impl Parts {
    fn push(&mut self, row: PartRow) {
        match row.part.as_str() {
            "o" => self.organizations.push(Organization {
                id: row.id,
                name: row.name,
                description: row.description.unwrap_or_default(),
                user_id: row.user_id.unwrap_or_default(),
                created_at: row.created_at,
                updated_at: row.updated_at,
            }),
            "c" => self.categories.push(Category {
                id: row.id,
                name: row.name,
                kind: match row.kind.as_deref() {
                    Some("Default") => CategoryKind::Default,
                    _ => CategoryKind::Custom,
                },
                organization_id: row.organization_id,
                position: row.position.unwrap_or_default(),
                created_at: row.created_at,
                updated_at: row.updated_at,
            }),
            _ => self.tags.push(Tag {
                id: row.id,
                name: row.name,
                color: row.color.unwrap_or_default(),
                organization_id: row.organization_id,
                created_at: row.created_at,
                updated_at: row.updated_at,
            }),
        }
    }
}

/// The categories and the tags of the organizations `within` keeps (given
/// the column of an organization id), as the `c` and `t` arms of a `UNION
/// ALL` of [`PartRow`]s, in part, position, id order.
fn parts_select(within: impl Fn(Expr) -> Expr) -> SelectStatement {
    let alias = |name: &str| Alias::new(name);
    let mut tags = Query::select();
    tags.expr_as(Expr::cust("'t'"), alias("part"))
        .column(tag::Column::Id)
        .column(tag::Column::Name)
        .expr_as(null("TEXT"), alias("kind"))
        .expr_as(Expr::col(tag::Column::Color), alias("color"))
        .expr_as(null("TEXT"), alias("description"))
        .column(tag::Column::OrganizationId)
        .expr_as(null("INTEGER"), alias("position"))
        .expr_as(null("BIGINT"), alias("user_id"))
        .column(tag::Column::CreatedAt)
        .column(tag::Column::UpdatedAt)
        .expr_as(null("BIGINT"), alias("total"))
        .from(tag::Entity)
        .and_where(within(Expr::col(tag::Column::OrganizationId)));
    let mut select = Query::select();
    select
        .expr_as(Expr::cust("'c'"), alias("part"))
        .column(category::Column::Id)
        .column(category::Column::Name)
        .expr_as(Expr::col(category::Column::Kind), alias("kind"))
        .expr_as(null("TEXT"), alias("color"))
        .expr_as(null("TEXT"), alias("description"))
        .column(category::Column::OrganizationId)
        .expr_as(Expr::col(category::Column::Position), alias("position"))
        .expr_as(null("BIGINT"), alias("user_id"))
        .column(category::Column::CreatedAt)
        .column(category::Column::UpdatedAt)
        .expr_as(null("BIGINT"), alias("total"))
        .from(category::Entity)
        .and_where(within(Expr::col(category::Column::OrganizationId)))
        .union(UnionType::All, tags)
        .order_by(alias("part"), Order::Asc)
        .order_by(alias("position"), Order::Asc)
        .order_by(alias("id"), Order::Asc);
    select
}

/// The categories (by position, then id) and the tags (by id) of these
/// organizations, in one statement (`UNION ALL`) instead of one each.
pub async fn parts_of(
    conn: &impl ConnectionTrait,
    organization_ids: &[i64],
) -> Result<(Vec<Category>, Vec<Tag>), DbErr> {
    if organization_ids.is_empty() {
        return Ok((vec![], vec![]));
    }
    let select =
        parts_select(|organization| organization.is_in(in_list(organization_ids.iter().copied())));
    let statement = conn.get_database_backend().build(&select);
    let mut parts = Parts::default();
    for row in PartRow::find_by_statement(statement).all(conn).await? {
        parts.push(row);
    }
    Ok((parts.categories, parts.tags))
}

pub async fn categories_of(
    conn: &impl ConnectionTrait,
    organization_ids: &[i64],
) -> Result<Vec<Category>, DbErr> {
    let rows = category::Entity::find()
        .filter(category::Column::OrganizationId.is_in(in_list(organization_ids.iter().copied())))
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .all(conn)
        .await?;
    Ok(all(rows))
}

pub async fn tags_of(
    conn: &impl ConnectionTrait,
    organization_ids: &[i64],
) -> Result<Vec<Tag>, DbErr> {
    let rows = tag::Entity::find()
        .filter(tag::Column::OrganizationId.is_in(in_list(organization_ids.iter().copied())))
        .order_by_asc(tag::Column::Id)
        .all(conn)
        .await?;
    Ok(all(rows))
}

pub async fn insert_organization(
    conn: &impl ConnectionTrait,
    name: String,
    description: String,
    creator: i64,
    now: DateTime<Utc>,
) -> Result<Organization, DbErr> {
    let row = organization::ActiveModel {
        name: Set(name),
        description: Set(description),
        user_id: Set(creator),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.into())
}

/// Changes the given fields; answers the organization as it now is.
pub async fn update_organization(
    conn: &impl ConnectionTrait,
    id: i64,
    name: Option<String>,
    description: Option<String>,
    now: DateTime<Utc>,
) -> Result<Organization, DbErr> {
    let row = organization::ActiveModel {
        id: Unchanged(id),
        name: set_given(name),
        description: set_given(description),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.update(conn).await?.into())
}

/// Deletes the organization and everything in it.
pub async fn delete_organization(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    let tasks = task::Entity::find()
        .select_only()
        .column(task::Column::Id)
        .filter(task::Column::OrganizationId.eq(id));
    task_tag::Entity::delete_many()
        .filter(task_tag::Column::TaskId.in_subquery(tasks.clone().into_query()))
        .exec(conn)
        .await?;
    task_assignee::Entity::delete_many()
        .filter(task_assignee::Column::TaskId.in_subquery(tasks.into_query()))
        .exec(conn)
        .await?;
    task::Entity::delete_many()
        .filter(task::Column::OrganizationId.eq(id))
        .exec(conn)
        .await?;
    tag::Entity::delete_many()
        .filter(tag::Column::OrganizationId.eq(id))
        .exec(conn)
        .await?;
    category::Entity::delete_many()
        .filter(category::Column::OrganizationId.eq(id))
        .exec(conn)
        .await?;
    membership::Entity::delete_many()
        .filter(membership::Column::OrganizationId.eq(id))
        .exec(conn)
        .await?;
    invitation::Entity::delete_many()
        .filter(invitation::Column::OrganizationId.eq(id))
        .exec(conn)
        .await?;
    organization::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

/// The memberships, oldest first.
pub async fn members(
    conn: &impl ConnectionTrait,
    organization_id: i64,
) -> Result<Vec<Membership>, DbErr> {
    let rows = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(organization_id))
        .order_by_asc(membership::Column::CreatedAt)
        .order_by_asc(membership::Column::UserId)
        .all(conn)
        .await?;
    Ok(all(rows))
}

pub async fn insert_membership(
    conn: &impl ConnectionTrait,
    organization_id: i64,
    user_id: i64,
    role: OrganizationRole,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    membership::ActiveModel {
        organization_id: Set(organization_id),
        user_id: Set(user_id),
        role: Set(role.into()),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn set_role(
    conn: &impl ConnectionTrait,
    organization_id: i64,
    user_id: i64,
    role: OrganizationRole,
) -> Result<(), DbErr> {
    membership::Entity::update_many()
        .col_expr(
            membership::Column::Role,
            Expr::value(membership::OrganizationRole::from(role)),
        )
        .filter(membership::Column::OrganizationId.eq(organization_id))
        .filter(membership::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Removes the membership and the user's assignments in the organization.
pub async fn delete_membership(
    conn: &impl ConnectionTrait,
    organization_id: i64,
    user_id: i64,
) -> Result<(), DbErr> {
    let tasks = task::Entity::find()
        .select_only()
        .column(task::Column::Id)
        .filter(task::Column::OrganizationId.eq(organization_id))
        .into_query();
    task_assignee::Entity::delete_many()
        .filter(task_assignee::Column::UserId.eq(user_id))
        .filter(task_assignee::Column::TaskId.in_subquery(tasks))
        .exec(conn)
        .await?;
    membership::Entity::delete_by_id((organization_id, user_id))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn category(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Category>, DbErr> {
    Ok(category::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Into::into))
}

pub async fn insert_category(
    conn: &impl ConnectionTrait,
    organization_id: i64,
    name: &str,
    kind: CategoryKind,
    position: i32,
    now: DateTime<Utc>,
) -> Result<Category, DbErr> {
    let row = category::ActiveModel {
        name: Set(name.to_owned()),
        kind: Set(kind.into()),
        organization_id: Set(organization_id),
        position: Set(position),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.into())
}

pub async fn rename_category(
    conn: &impl ConnectionTrait,
    id: i64,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    category::Entity::update_many()
        .col_expr(category::Column::Name, Expr::value(name))
        .col_expr(category::Column::UpdatedAt, Expr::value(now))
        .filter(category::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Gives each category its index + 1 as position (only rows that change).
pub async fn set_category_positions(
    conn: &impl ConnectionTrait,
    current: &[Category],
    order: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for (index, id) in order.iter().enumerate() {
        let position = index as i32 + 1;
        if current
            .iter()
            .any(|c| c.id == *id && c.position != position)
        {
            category::Entity::update_many()
                .col_expr(category::Column::Position, Expr::value(position))
                .col_expr(category::Column::UpdatedAt, Expr::value(now))
                .filter(category::Column::Id.eq(*id))
                .exec(conn)
                .await?;
        }
    }
    Ok(())
}

pub async fn delete_category(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    category::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

pub async fn tag(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Tag>, DbErr> {
    Ok(tag::Entity::find_by_id(id).one(conn).await?.map(Into::into))
}

pub async fn insert_tag(
    conn: &impl ConnectionTrait,
    organization_id: i64,
    name: String,
    color: String,
    now: DateTime<Utc>,
) -> Result<Tag, DbErr> {
    let row = tag::ActiveModel {
        name: Set(name),
        color: Set(color),
        organization_id: Set(organization_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.into())
}

/// Changes the given fields; answers the tag as it now is.
pub async fn update_tag(
    conn: &impl ConnectionTrait,
    id: i64,
    name: Option<String>,
    color: Option<String>,
    now: DateTime<Utc>,
) -> Result<Tag, DbErr> {
    let row = tag::ActiveModel {
        id: Unchanged(id),
        name: set_given(name),
        color: set_given(color),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.update(conn).await?.into())
}

pub async fn delete_tag(conn: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    task_tag::Entity::delete_many()
        .filter(task_tag::Column::TagId.eq(id))
        .exec(conn)
        .await?;
    tag::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}
