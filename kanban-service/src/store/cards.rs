//! Reading cards: a page of tasks with everything a board shows of them,
//! in two statements whatever the page's size (the page's tasks joined
//! with their category and owner, counted, their positions computed from
//! their ranks and the ids of their tags and assignees gathered in the same
//! statement; then those tags and people, in one `UNION ALL`), rows mapped
//! straight onto the cards.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Order, Query, QueryStatementBuilder,
    SelectStatement, UnionType,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult};

use super::{in_list, null};
use crate::boards::{Page, Tag, Task, TaskCard, TaskQuery, User};
use crate::entity::{category, tag, task, task_tag, user};

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
    /// The ids of its tags, joined with commas (see [`with_heads`]).
    tag_ids: Option<String>,
    /// The ids of its assignees, joined with commas.
    assignee_ids: Option<String>,
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
/// matches in all, in one statement; positions are counted in it too (see
/// [`with_heads`]).
///
/// A first page walks the matches in the order of an index
/// (`idx_tasks_board_order` for an organization, `idx_tasks_category_rank`
/// for a category) and stops at its limit instead of sorting every match.
/// A later page first finds its tasks' ids in that order (`page_ids`), so
/// the tasks before its offset are skipped in the index alone instead of
/// being read and joined: a page of 50 at offset 2,500 of a 5,000-card
/// board measured 2.8 times faster so. The total is what the categories
/// keep (`matched`): it costs the same at any board size.
pub async fn page(
    conn: &impl ConnectionTrait,
    query: TaskQuery,
    page: Page,
) -> Result<(Vec<TaskCard>, u64), DbErr> {
    let mut select = cards_query();
    select.expr_as(
        Expr::SubQuery(None, Box::new(matched(query).into_sub_query_statement())),
        Alias::new("total"),
    );
    if page.offset == 0 {
        select.cond_where(matching(query));
        in_board_order(&mut select).limit(page.limit);
    } else {
        select.and_where(
            Expr::col((task::Entity, task::Column::Id)).in_subquery(page_ids(query, page)),
        );
        in_board_order(&mut select);
    }
    let contiguous = query.tag_id.is_none();
    let backend = conn.get_database_backend();
    let rows = rows(conn, &with_heads(select, contiguous, backend)).await?;
    let total = match rows.first() {
        Some(row) => row.total as u64,
        // Past the end (or nothing matches): the count had no row to ride on.
        None if page.offset > 0 => count_matching(conn, query).await?,
        None => 0,
    };
    Ok((with_links(conn, positioned(rows)).await?, total))
}

/// The ids of the tasks on `page` of what `query` matches, in board order.
fn page_ids(query: TaskQuery, page: Page) -> SelectStatement {
    let mut ids = Query::select();
    ids.column((task::Entity, task::Column::Id))
        .from(task::Entity)
        .cond_where(matching(query));
    in_board_order(&mut ids)
        .limit(page.limit)
        .offset(page.offset)
        .to_owned()
}

/// A statement answering how many tasks `query` matches (as `total`).
/// Without a tag the categories' kept counts answer it (the sum over the
/// organization's columns, or the one column's), which their writes keep
/// in the transaction that adds, moves or removes a task; with one the
/// tasks are counted.
fn matched(query: TaskQuery) -> SelectStatement {
    let mut count = Query::select();
    if query.tag_id.is_none() && (query.organization_id.is_some() || query.category_id.is_some()) {
        count
            .expr_as(
                Expr::cust(r#"CAST(COALESCE(SUM("task_count"), 0) AS BIGINT)"#),
                Alias::new("total"),
            )
            .from(category::Entity);
        if let Some(organization_id) = query.organization_id {
            count.and_where(Expr::col(category::Column::OrganizationId).eq(organization_id));
        }
        if let Some(category_id) = query.category_id {
            count.and_where(Expr::col(category::Column::Id).eq(category_id));
        }
    } else {
        count
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("total"))
            .from(task::Entity)
            .cond_where(matching(query));
    }
    count
}

/// One task with everything a board shows of it.
pub async fn card(conn: &impl ConnectionTrait, task_id: i64) -> Result<Option<TaskCard>, DbErr> {
    let mut select = cards_query();
    select
        .expr_as(Expr::val(1i64), Alias::new("total"))
        .and_where(Expr::col((task::Entity, task::Column::Id)).eq(task_id));
    let rows = rows(
        conn,
        &with_heads(select, false, conn.get_database_backend()),
    )
    .await?;
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
///
/// Each card also names its tags and assignees (`tag_ids`,
/// `assignee_ids`: their ids joined with commas), each a subquery on the
/// card's own entries in the link table's primary key: a page reads the
/// links of its cards only, whatever the tables' sizes. (A statement
/// matching the page's ids against the link tables let PostgreSQL's
/// planner scan both tables whole while they were small, ~20,000 rows, at
/// two thirds of a board read's database time.)
fn with_heads(page: SelectStatement, contiguous: bool, backend: DbBackend) -> SelectStatement {
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
    let ids_of = |table: &str, column: &str| {
        let joined = match backend {
            DbBackend::Postgres => format!(r#"string_agg(CAST("{column}" AS TEXT), ',')"#),
            _ => format!(r#"group_concat("{column}", ',')"#),
        };
        Expr::cust(format!(
            r#"(SELECT {joined} FROM "{table}" WHERE "{table}"."task_id" = "heads"."id")"#
        ))
    };
    let mut select = Query::select();
    select
        .column(Asterisk)
        .expr_as(Expr::cust(head), Alias::new("head"))
        .expr_as(ids_of("task_tags", "tag_id"), Alias::new("tag_ids"))
        .expr_as(
            ids_of("task_assignees", "user_id"),
            Alias::new("assignee_ids"),
        )
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
    let statement = conn.get_database_backend().build(&matched(query));
    let row = conn.query_one_raw(statement).await?;
    Ok(match row {
        Some(row) => u64::try_from(row.try_get::<i64>("", "total")?).unwrap_or(0),
        None => 0,
    })
}

/// The cards of `rows`, with their assignees and tags: each card names
/// their ids ([`with_heads`]), and one statement reads each tag and person
/// the page names once, the two as the arms of a `UNION ALL`.
async fn with_links(
    conn: &impl ConnectionTrait,
    rows: Vec<(i32, CardRow)>,
) -> Result<Vec<TaskCard>, DbErr> {
    // Each card's tag and person ids, parsed once, in id order.
    let rows: Vec<_> = rows
        .into_iter()
        .map(|(position, row)| {
            let (tag_ids, person_ids) = (ids(&row.tag_ids), ids(&row.assignee_ids));
            (position, row, tag_ids, person_ids)
        })
        .collect();
    let mut tag_ids: Vec<i64> = rows.iter().flat_map(|r| r.2.iter().copied()).collect();
    let mut person_ids: Vec<i64> = rows.iter().flat_map(|r| r.3.iter().copied()).collect();
    for named in [&mut tag_ids, &mut person_ids] {
        named.sort_unstable();
        named.dedup();
    }
    let (tags, people) = if tag_ids.is_empty() && person_ids.is_empty() {
        (HashMap::new(), HashMap::new())
    } else {
        tags_and_people(conn, &tag_ids, &person_ids).await?
    };
    Ok(rows
        .into_iter()
        .map(|(position, row, tag_ids, person_ids)| {
            let assignees = person_ids.iter().filter_map(|id| people.get(id).cloned());
            let card_tags = tag_ids.iter().filter_map(|id| tags.get(id).cloned());
            row.into_card(position, assignees.collect(), card_tags.collect())
        })
        .collect())
}

/// The ids in a list of them as the database joined them ("3,7"), in
/// order.
fn ids(list: &Option<String>) -> Vec<i64> {
    let mut ids: Vec<i64> = list
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

/// A tag (`part` `t`) or a person (`p`) a page names, read in one
/// statement; the columns a part does not have are NULL.
#[derive(FromQueryResult)]
struct PartRow {
    part: String,
    id: i64,
    name: String,
    /// A person's.
    email: Option<String>,
    /// A tag's.
    color: Option<String>,
    /// A tag's.
    organization_id: Option<i64>,
    /// A tag's.
    created_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

/// The tags and the people with these ids, by id: one statement, each by
/// its primary key.
async fn tags_and_people(
    conn: &impl ConnectionTrait,
    tag_ids: &[i64],
    person_ids: &[i64],
) -> Result<(HashMap<i64, Tag>, HashMap<i64, User>), DbErr> {
    let alias = |name: &str| Alias::new(name);
    let mut tags = Query::select();
    tags.expr_as(Expr::cust("'t'"), alias("part"))
        .column(tag::Column::Id)
        .column(tag::Column::Name)
        .expr_as(null("TEXT"), alias("email"))
        .column(tag::Column::Color)
        .column(tag::Column::OrganizationId)
        .column(tag::Column::CreatedAt)
        .column(tag::Column::UpdatedAt)
        .from(tag::Entity)
        .and_where(Expr::col(tag::Column::Id).is_in(in_list(tag_ids.iter().copied())));
    let mut people = Query::select();
    people
        .expr_as(Expr::cust("'p'"), alias("part"))
        .column(user::Column::Id)
        .column(user::Column::Name)
        .column(user::Column::Email)
        .expr_as(null("TEXT"), alias("color"))
        .expr_as(null("BIGINT"), alias("organization_id"))
        // A NULL of no type takes the other arm's (PostgreSQL's UNION rules).
        .expr_as(Expr::cust("NULL"), alias("created_at"))
        .column(user::Column::UpdatedAt)
        .from(user::Entity)
        .and_where(Expr::col(user::Column::Id).is_in(in_list(person_ids.iter().copied())));
    let select = match (tag_ids.is_empty(), person_ids.is_empty()) {
        (true, _) => people,
        (false, true) => tags,
        (false, false) => people.union(UnionType::All, tags).to_owned(),
    };
    let statement = conn.get_database_backend().build(&select);
    let mut found_tags = HashMap::new();
    let mut found_people = HashMap::new();
    for row in PartRow::find_by_statement(statement).all(conn).await? {
        if row.part == "p" {
            let person = User {
                id: row.id,
                email: row.email,
                name: row.name,
                updated_at: row.updated_at,
            };
            found_people.insert(row.id, person);
        } else {
            let tag = Tag {
                id: row.id,
                name: row.name,
                color: row.color.unwrap_or_default(),
                organization_id: row.organization_id.unwrap_or_default(),
                created_at: row.created_at.unwrap_or(row.updated_at),
                updated_at: row.updated_at,
            };
            found_tags.insert(row.id, tag);
        }
    }
    Ok((found_tags, found_people))
}
