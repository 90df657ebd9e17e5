//! Reading cards: a page of tasks with everything a board shows of them,
//! in two statements whatever the page's size (the page's tasks joined
//! with their category and owner, counted and their positions computed
//! from their ranks in the same statement; their assignees and tags, in
//! one `UNION ALL`), rows mapped straight onto the cards.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Order, Query, QueryStatementBuilder,
    SelectStatement, UnionType,
};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use super::{in_list, null};
use crate::boards::{Page, Tag, Task, TaskCard, TaskQuery, User};
use crate::entity::{category, tag, task, task_assignee, task_tag, user};

/// A task joined with its category's name and its owner; `total` counts
/// every task the filter matches.
#[derive(FromQueryResult)]
struct CardRow {
    id: i64,
    title: String,
    description: Option<String>,
    due_date: Option<DateTime<Utc>>,
    owner_id: i64,
    category_id: i64,
    organization_id: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    category_name: String,
    owner_email: Option<String>,
    owner_name: Option<String>,
    owner_updated_at: Option<DateTime<Utc>>,
    total: i64,
    /// The card's position when it starts its category within the page
    /// (see [`with_heads`]).
    head: Option<i64>,
}

impl CardRow {
    fn into_card(self, position: i32, assignees: Vec<User>, tags: Vec<Tag>) -> TaskCard {
        let owner = match (self.owner_name, self.owner_updated_at) {
            (Some(name), Some(updated_at)) => Some(User {
                id: self.owner_id,
                email: self.owner_email,
                name,
                updated_at,
            }),
            _ => None,
        };
        TaskCard {
            task: Task {
                id: self.id,
                title: self.title,
                description: self.description,
                due_date: self.due_date,
                position,
                owner_id: self.owner_id,
                category_id: self.category_id,
                organization_id: self.organization_id,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            category: self.category_name,
            owner,
            assignees,
            tags,
        }
    }
}

/// An assignee (`part` `a`) or a tag (`t`) of a task of the page, read in
/// one statement; the columns a part does not have are NULL.
#[derive(FromQueryResult)]
struct LinkRow {
    part: String,
    task_id: i64,
    id: i64,
    name: String,
    /// An assignee's.
    email: Option<String>,
    /// A tag's.
    color: Option<String>,
    /// A tag's.
    organization_id: Option<i64>,
    /// A tag's.
    created_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

/// The tasks with their category's name and owner, in board order.
/// (`rank` rides along for [`with_heads`].)
fn cards_query() -> SelectStatement {
    let t = |column: task::Column| (task::Entity, column);
    Query::select()
        .columns([
            t(task::Column::Id),
            t(task::Column::Title),
            t(task::Column::Description),
            t(task::Column::DueDate),
            t(task::Column::Rank),
            t(task::Column::OwnerId),
            t(task::Column::CategoryId),
            t(task::Column::OrganizationId),
            t(task::Column::CreatedAt),
            t(task::Column::UpdatedAt),
        ])
        .expr_as(
            Expr::col((category::Entity, category::Column::Name)),
            Alias::new("category_name"),
        )
        .expr_as(
            Expr::col((user::Entity, user::Column::Email)),
            Alias::new("owner_email"),
        )
        .expr_as(
            Expr::col((user::Entity, user::Column::Name)),
            Alias::new("owner_name"),
        )
        .expr_as(
            Expr::col((user::Entity, user::Column::UpdatedAt)),
            Alias::new("owner_updated_at"),
        )
        .from(task::Entity)
        .inner_join(
            category::Entity,
            Expr::col((category::Entity, category::Column::Id))
                .equals((task::Entity, task::Column::CategoryId)),
        )
        .left_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((task::Entity, task::Column::OwnerId)),
        )
        .to_owned()
}

/// What `query` matches, as a condition on the tasks table.
fn matching(query: TaskQuery) -> Condition {
    let column = |c: task::Column| Expr::col((task::Entity, c));
    let mut condition = Condition::all();
    if let Some(organization_id) = query.organization_id {
        condition = condition.add(column(task::Column::OrganizationId).eq(organization_id));
    }
    if let Some(category_id) = query.category_id {
        condition = condition.add(column(task::Column::CategoryId).eq(category_id));
    }
    if let Some(tag_id) = query.tag_id {
        let tagged = Query::select()
            .column(task_tag::Column::TaskId)
            .from(task_tag::Entity)
            .and_where(Expr::col(task_tag::Column::TagId).eq(tag_id))
            .to_owned();
        condition = condition.add(column(task::Column::Id).in_subquery(tagged));
    }
    condition
}

/// Board order: by category, rank (the order of positions), id.
fn in_board_order(select: &mut SelectStatement) -> &mut SelectStatement {
    select
        .order_by((task::Entity, task::Column::CategoryId), Order::Asc)
        .order_by((task::Entity, task::Column::Rank), Order::Asc)
        .order_by((task::Entity, task::Column::Id), Order::Asc)
}

/// A page of the tasks `query` matches (in board order) with how many it
/// matches in all. The page walks the tasks in the order of an index
/// (`idx_tasks_board_order` for an organization, `idx_tasks_category_rank` for
/// a category) to its offset instead of sorting every match, and the total
/// is a plain count riding on the same statement (an uncorrelated
/// subquery, run once) instead of a window over every joined match: a page
/// of 50 costs about the same on a board of 5,000 cards as on one of 1,000.
/// Positions are counted in the same statement (see [`with_heads`]).
pub async fn page(
    conn: &impl ConnectionTrait,
    query: TaskQuery,
    page: Page,
) -> Result<(Vec<TaskCard>, u64), DbErr> {
    let mut count = Query::select();
    count
        .expr(Expr::cust("COUNT(*)"))
        .from(task::Entity)
        .cond_where(matching(query));
    let mut select = cards_query();
    select
        .expr_as(
            Expr::SubQuery(None, Box::new(count.into_sub_query_statement())),
            Alias::new("total"),
        )
        .cond_where(matching(query));
    in_board_order(&mut select)
        .limit(page.limit)
        .offset(page.offset);
    let contiguous = query.tag_id.is_none();
    let rows = rows(conn, &with_heads(select, contiguous)).await?;
    let total = match rows.first() {
        Some(row) => row.total as u64,
        // Past the end (or nothing matches): the count had no row to ride on.
        None if page.offset > 0 => count_matching(conn, query).await?,
        None => 0,
    };
    Ok((with_links(conn, positioned(rows)).await?, total))
}

/// One task with everything a board shows of it.
pub async fn card(conn: &impl ConnectionTrait, task_id: i64) -> Result<Option<TaskCard>, DbErr> {
    let mut select = cards_query();
    select
        .expr_as(Expr::val(1i64), Alias::new("total"))
        .and_where(Expr::col((task::Entity, task::Column::Id)).eq(task_id));
    let rows = rows(conn, &with_heads(select, false)).await?;
    Ok(with_links(conn, positioned(rows)).await?.pop())
}

/// `page` (cards in board order) with, in the same statement, a `head`:
/// the position of each card that starts its category within the page
/// (how many tasks of its category rank up to it, a range count on the
/// `(category_id, rank)` index), NULL for the next ones, which follow it
/// ([`positioned`]). `contiguous`: the page holds every task of its
/// categories between its first and last card (no tag filter); otherwise
/// every card is counted. One statement, so the positions are those of the
/// snapshot the page is read in.
fn with_heads(page: SelectStatement, contiguous: bool) -> SelectStatement {
    let heads = Alias::new("heads");
    let mut lagged = Query::select();
    lagged
        .column(Asterisk)
        .expr_as(
            Expr::cust(r#"LAG("category_id") OVER (ORDER BY "category_id", "rank", "id")"#),
            Alias::new("previous_category"),
        )
        .from_subquery(page, Alias::new("page"));
    let count = r#"(SELECT COUNT(*) FROM "tasks" AS "other" WHERE "other"."category_id" = "heads"."category_id" AND "other"."rank" <= "heads"."rank")"#;
    let head = if contiguous {
        format!(
            r#"CASE WHEN "heads"."previous_category" IS NULL OR "heads"."previous_category" <> "heads"."category_id" THEN {count} END"#
        )
    } else {
        count.to_owned()
    };
    let mut select = Query::select();
    select
        .column(Asterisk)
        .expr_as(Expr::cust(head), Alias::new("head"))
        .from_subquery(lagged, heads.clone());
    for column in ["category_id", "rank", "id"] {
        select.order_by((heads.clone(), Alias::new(column)), Order::Asc);
    }
    select
}

/// The rows (in board order) with their 1-based positions: a row's `head`,
/// or one past the previous row's position.
fn positioned(rows: Vec<CardRow>) -> Vec<(i32, CardRow)> {
    let mut position = 0;
    rows.into_iter()
        .map(|row| {
            position = match row.head {
                Some(head) => i32::try_from(head).unwrap_or(i32::MAX),
                None => position + 1,
            };
            (position, row)
        })
        .collect()
}

async fn rows(
    conn: &impl ConnectionTrait,
    select: &SelectStatement,
) -> Result<Vec<CardRow>, DbErr> {
    let statement = conn.get_database_backend().build(select);
    CardRow::find_by_statement(statement).all(conn).await
}

/// How many tasks `query` matches.
async fn count_matching(conn: &impl ConnectionTrait, query: TaskQuery) -> Result<u64, DbErr> {
    let mut count = Query::select();
    count
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("total"))
        .from(task::Entity)
        .cond_where(matching(query));
    let statement = conn.get_database_backend().build(&count);
    let row = conn.query_one_raw(statement).await?;
    Ok(match row {
        Some(row) => u64::try_from(row.try_get::<i64>("", "total")?).unwrap_or(0),
        None => 0,
    })
}

/// The cards of `rows`, with their assignees (by user id) and tags (by tag
/// id): one statement for the whole page, the two as the arms of a `UNION
/// ALL`.
async fn with_links(
    conn: &impl ConnectionTrait,
    rows: Vec<(i32, CardRow)>,
) -> Result<Vec<TaskCard>, DbErr> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids = in_list(rows.iter().map(|(_, r)| r.id));
    let alias = |name: &str| Alias::new(name);
    let mut tags = Query::select();
    tags.expr_as(Expr::cust("'t'"), alias("part"))
        .expr_as(
            Expr::col((task_tag::Entity, task_tag::Column::TaskId)),
            alias("task_id"),
        )
        .expr_as(Expr::col((tag::Entity, tag::Column::Id)), alias("id"))
        .expr_as(Expr::col((tag::Entity, tag::Column::Name)), alias("name"))
        .expr_as(null("TEXT"), alias("email"))
        .expr_as(Expr::col((tag::Entity, tag::Column::Color)), alias("color"))
        .expr_as(
            Expr::col((tag::Entity, tag::Column::OrganizationId)),
            alias("organization_id"),
        )
        .expr_as(
            Expr::col((tag::Entity, tag::Column::CreatedAt)),
            alias("created_at"),
        )
        .expr_as(
            Expr::col((tag::Entity, tag::Column::UpdatedAt)),
            alias("updated_at"),
        )
        .from(task_tag::Entity)
        .inner_join(
            tag::Entity,
            Expr::col((tag::Entity, tag::Column::Id))
                .equals((task_tag::Entity, task_tag::Column::TagId)),
        )
        .and_where(
            Expr::col((task_tag::Entity, task_tag::Column::TaskId)).is_in(ids.iter().copied()),
        );
    let mut links = Query::select();
    links
        .expr_as(Expr::cust("'a'"), alias("part"))
        .expr_as(
            Expr::col((task_assignee::Entity, task_assignee::Column::TaskId)),
            alias("task_id"),
        )
        .expr_as(Expr::col((user::Entity, user::Column::Id)), alias("id"))
        .expr_as(Expr::col((user::Entity, user::Column::Name)), alias("name"))
        .expr_as(
            Expr::col((user::Entity, user::Column::Email)),
            alias("email"),
        )
        .expr_as(null("TEXT"), alias("color"))
        .expr_as(null("BIGINT"), alias("organization_id"))
        // A NULL of no type takes the other arm's (PostgreSQL's UNION rules).
        .expr_as(Expr::cust("NULL"), alias("created_at"))
        .expr_as(
            Expr::col((user::Entity, user::Column::UpdatedAt)),
            alias("updated_at"),
        )
        .from(task_assignee::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((task_assignee::Entity, task_assignee::Column::UserId)),
        )
        .and_where(
            Expr::col((task_assignee::Entity, task_assignee::Column::TaskId))
                .is_in(ids.iter().copied()),
        )
        .union(UnionType::All, tags)
        .order_by(alias("part"), Order::Asc)
        .order_by(alias("task_id"), Order::Asc)
        .order_by(alias("id"), Order::Asc);
    let statement = conn.get_database_backend().build(&links);
    let mut assigned: HashMap<i64, Vec<User>> = HashMap::new();
    let mut labelled: HashMap<i64, Vec<Tag>> = HashMap::new();
    for row in LinkRow::find_by_statement(statement).all(conn).await? {
        if row.part == "a" {
            assigned.entry(row.task_id).or_default().push(User {
                id: row.id,
                email: row.email,
                name: row.name,
                updated_at: row.updated_at,
            });
        } else {
            labelled.entry(row.task_id).or_default().push(Tag {
                id: row.id,
                name: row.name,
                color: row.color.unwrap_or_default(),
                organization_id: row.organization_id.unwrap_or_default(),
                created_at: row.created_at.unwrap_or(row.updated_at),
                updated_at: row.updated_at,
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|(position, row)| {
            let assignees = assigned.remove(&row.id).unwrap_or_default();
            let tags = labelled.remove(&row.id).unwrap_or_default();
            row.into_card(position, assignees, tags)
        })
        .collect())
}
