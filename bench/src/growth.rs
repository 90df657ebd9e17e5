//! The growth dimension (`--growth`, never in `--short`): how the board
//! scenarios cost as boards and the database grow. Boards of 200, 1,000 and
//! 5,000 cards are seeded over HTTP (each card with a tag and an assignee)
//! and each is read whole, read a page of 50 cards from its middle, and has
//! tasks moved within its first column; then the database is padded with
//! filler tasks (straight into kanban's PostgreSQL database, one filler
//! organization) to 200,000 tasks and the 200-card board is measured again.
//! Each board is measured at rest (see [`at_rest`]).
//! Every row names the board's cards and the tasks in the database, counted
//! when it ran.

use std::time::Instant;

use anyhow::Context;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::measure::{Outcome, Recorder, ok, scenario};
use crate::options::Scale;
use crate::seed::{Board, World, member_of, seed_board};

/// The board sizes measured.
const BOARDS: [usize; 3] = [200, 1_000, 5_000];
/// The gap between filler tasks' ranks (kanban's `RANK_GAP`).
const RANK_GAP: i64 = 1 << 20;
/// The database size the last measurement pads to.
const PADDED_TASKS: i64 = 200_000;
/// The most cards kanban answers in one list.
const MAX_LIMIT: usize = 1000;
/// Cards per page in the page scenario.
const PAGE: usize = 50;

/// How many tasks kanban's database holds.
async fn tasks_in_database(db: &sea_orm::DatabaseConnection) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM tasks",
        ))
        .await?
        .context("COUNT answered nothing")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Runs one statement on kanban's database.
async fn execute(
    db: &sea_orm::DatabaseConnection,
    sql: String,
) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
}

/// Adds filler tasks (one organization, one category, ranked as kanban
/// ranks them, the category counting them as kanban counts its tasks)
/// until the database holds `total` tasks, then brings it to rest.
async fn pad(db: &sea_orm::DatabaseConnection, total: i64) -> anyhow::Result<()> {
    let missing = total - tasks_in_database(db).await?;
    if missing <= 0 {
        return Ok(());
    }
    let run = |sql: String| execute(db, sql);
    run(
        "INSERT INTO organizations (name, description, user_id, created_at, updated_at) \
         SELECT 'Filler', 'benchmark filler', MIN(id), now(), now() FROM users"
            .into(),
    )
    .await?;
    run(format!(
        "INSERT INTO categories (name, kind, organization_id, position, task_count, top_rank, \
         created_at, updated_at) \
         SELECT 'Filler', 'Custom', MAX(id), 1, {missing}, CAST({missing} AS BIGINT) * {RANK_GAP}, \
         now(), now() \
         FROM organizations"
    ))
    .await?;
    run(format!(
        "INSERT INTO tasks (title, description, \"rank\", owner_id, category_id, organization_id, \
         created_at, updated_at) \
         SELECT 'Filler ' || g, 'seeded', CAST(g AS BIGINT) * {RANK_GAP}, \
         (SELECT MIN(id) FROM users), c.id, c.organization_id, now(), now() \
         FROM generate_series(1, {missing}) AS g, \
         (SELECT id, organization_id FROM categories ORDER BY id DESC LIMIT 1) AS c"
    ))
    .await?;
    at_rest(db).await
}

/// Brings the database to rest after a bulk load, as autovacuum does within
/// a minute or so: vacuumed and analyzed, its dirty pages written out. The
/// measurements are of a board at rest, not of the load's aftermath: right
/// after 5,000 cards are seeded the planner's statistics still say the
/// board is empty, and it sorts the whole board for a page instead of
/// walking the board-order index (a page of 50 then measured 87-145/s
/// instead of several hundred).
async fn at_rest(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    execute(db, "VACUUM ANALYZE".into()).await?;
    if let Err(error) = execute(db, "CHECKPOINT".into()).await {
        eprintln!("growth: CHECKPOINT refused ({error}); measuring without it");
    }
    Ok(())
}

/// The three measurements of one board.
async fn measure_board(
    w: &World,
    scale: Scale,
    board: &Board,
    cards: usize,
    tasks: i64,
) -> Vec<Outcome> {
    let label = format!("{cards} cards; {tasks} tasks in all");
    let token = w.users[board.owner].token.clone();
    let kanban = w.kanban.as_str();
    let mut outcomes = Vec::new();
    for (name, url) in [
        (
            format!(
                "growth: list tasks of an organization ({} answered; {label})",
                cards.min(MAX_LIMIT)
            ),
            format!("{kanban}/tasks?OrganizationId={}", board.id),
        ),
        (
            format!("growth: a page of {PAGE} cards ({label})"),
            format!(
                "{kanban}/tasks?OrganizationId={}&limit={PAGE}&offset={}",
                board.id,
                cards / 2
            ),
        ),
    ] {
        outcomes.push(
            scenario(name, "kanban", scale, |_, deadline| {
                let (client, url, token) = (w.client.clone(), url.clone(), token.clone());
                async move {
                    let mut rec = Recorder::default();
                    while Instant::now() < deadline {
                        let request = client.get(&url).header("access_token", &token);
                        rec.time(ok(request, StatusCode::OK)).await;
                    }
                    rec
                }
            })
            .await,
        );
    }
    let column = board.tasks[0].clone();
    let name = format!("growth: move task (a column of {}; {label})", column.len());
    outcomes.push(
        scenario(name, "kanban", scale, |i, deadline| {
            let (client, base, token, tasks) = (
                w.client.clone(),
                w.kanban.clone(),
                token.clone(),
                column.clone(),
            );
            async move {
                let mut rec = Recorder::default();
                let mut n = i;
                while Instant::now() < deadline && !tasks.is_empty() {
                    let task = tasks[(n * 31) % tasks.len()];
                    let body = json!({"position": (n * 13) % tasks.len() + 1});
                    let request = client
                        .patch(format!("{base}/tasks/{task}"))
                        .header("access_token", &token)
                        .json(&body);
                    rec.time(ok(request, StatusCode::OK)).await;
                    n += 1;
                }
                rec
            }
        })
        .await,
    );
    outcomes
}

/// Seeds the growing boards and measures them, then pads the database and
/// measures the smallest board again. `kanban_db` is kanban's database.
pub(crate) async fn growth(
    w: &World,
    scale: Scale,
    kanban_db: &str,
) -> anyhow::Result<Vec<Outcome>> {
    let db = shared::db::connect(kanban_db, 2)
        .await
        .context("cannot open kanban's database to count and pad its tasks")?;
    let members: Vec<usize> = (0..scale.members_per_organization.min(5))
        .map(|m| member_of(scale, 1, m))
        .collect();
    let owner = 1 % w.users.len();
    let mut outcomes = Vec::new();
    let mut smallest = None;
    for cards in BOARDS {
        let started = Instant::now();
        let board = seed_board(&w.client, &w.kanban, &w.users, owner, &members, cards).await?;
        eprintln!(
            "growth: seeded a board of {cards} cards in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        at_rest(&db).await?;
        let tasks = tasks_in_database(&db).await?;
        outcomes.extend(measure_board(w, scale, &board, cards, tasks).await);
        smallest.get_or_insert(board);
    }
    let started = Instant::now();
    pad(&db, PADDED_TASKS).await?;
    let tasks = tasks_in_database(&db).await?;
    eprintln!(
        "growth: padded the database to {tasks} tasks in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let board = smallest.context("no board")?;
    outcomes.extend(measure_board(w, scale, &board, BOARDS[0], tasks).await);
    db.close().await?;
    Ok(outcomes)
}
