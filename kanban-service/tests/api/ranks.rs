//! Tasks are ordered by sparse ranks: moves into one gap use it up and the
//! column is renumbered, and the positions answered stay exactly 1..n in
//! the order of the moves; tasks stored before ranks keep their order.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};

use crate::helpers::{Stack, User, expect, id, spawn_stack};
use kanban_service::boards::{RANK_GAP, place};
use kanban_service::migration::Migrator;

/// The category's tasks as (id, position), in list order, read in pages of
/// `limit`.
async fn column(stack: &Stack, user: &User, category: i64, limit: usize) -> Vec<(i64, i64)> {
    let mut tasks = Vec::new();
    loop {
        let path = format!(
            "/tasks?CategoryId={category}&limit={limit}&offset={}",
            tasks.len()
        );
        let page = expect(stack.get(&path, user).await, StatusCode::OK).await;
        let page = page.as_array().unwrap().clone();
        tasks.extend(
            page.iter()
                .map(|t| (id(t), t["position"].as_i64().unwrap())),
        );
        if page.len() < limit {
            return tasks;
        }
    }
}

async fn move_to(stack: &Stack, user: &User, task: i64, body: Value) -> Value {
    expect(
        stack.patch(&format!("/tasks/{task}"), user, body).await,
        StatusCode::OK,
    )
    .await
}

/// Forty moves, one after the other, each to position 2 of a column of 50
/// (after a few to position 1, which give ranks below zero): each halves
/// the gap between the first two ranks, so the column is renumbered along
/// the way. Every answer says position 2; afterwards the column lists the
/// tasks in the order the moves make (as `place` orders), at positions
/// exactly 1..50, in one page and in pages of 7, and one task at a time.
#[tokio::test]
async fn moves_into_one_gap_renumber_the_column_and_keep_the_order() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo, doing) = (
        id(&organization),
        id(&organization["Categories"][1]),
        id(&organization["Categories"][2]),
    );
    let mut order = Vec::new();
    for n in 0..50 {
        let task = stack.task(&ann, org, todo, &format!("Task {n}")).await;
        assert_eq!(task["position"], n + 1, "a creation answers its position");
        order.push(id(&task));
    }
    let tasks = order.clone();
    for &task in &tasks[45..] {
        let moved = move_to(&stack, &ann, task, json!({"position": 1})).await;
        assert_eq!(moved["position"], 1);
        order = place(&order, task, Some(1));
    }
    for &task in &tasks[5..45] {
        let moved = move_to(&stack, &ann, task, json!({"position": 2})).await;
        assert_eq!(moved["position"], 2, "task {task}");
        order = place(&order, task, Some(2));
    }
    let expected: Vec<(i64, i64)> = order.iter().copied().zip(1..).collect();
    assert_eq!(column(&stack, &ann, todo, 1000).await, expected);
    assert_eq!(column(&stack, &ann, todo, 7).await, expected);
    for (task, position) in &expected {
        let one = expect(
            stack.get(&format!("/tasks/{task}"), &ann).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(one["position"].as_i64(), Some(*position), "task {task}");
    }

    // Across columns and deletions: the rest close up when read.
    let moved = move_to(
        &stack,
        &ann,
        order[10],
        json!({"CategoryId": doing, "position": 5}),
    )
    .await;
    assert_eq!(moved["position"], 1, "the only task of its new column");
    order.remove(10);
    let deleted = order.remove(3);
    expect(
        stack.delete(&format!("/tasks/{deleted}"), &ann).await,
        StatusCode::OK,
    )
    .await;
    let expected: Vec<(i64, i64)> = order.iter().copied().zip(1..).collect();
    assert_eq!(column(&stack, &ann, todo, 9).await, expected);

    // A tag's cards are not a column's run: each carries its own position.
    let tag = json!({"name": "Hot", "color": "#FF0000", "OrganizationId": org});
    let tag = id(&expect(stack.post("/tags", &ann, tag).await, StatusCode::CREATED).await);
    let tagged: Vec<(i64, i64)> = [2, 3, 17, 30, 47]
        .iter()
        .map(|&i| expected[i])
        .chain([(moved["id"].as_i64().unwrap(), 1)])
        .collect();
    for (task, _) in &tagged {
        let body = json!({"TagId": tag});
        let path = format!("/tasks/{task}/addTag");
        expect(stack.post(&path, &ann, body).await, StatusCode::CREATED).await;
    }
    for limit in [2, 100] {
        let mut listed = Vec::new();
        while listed.len() < tagged.len() {
            let path = format!("/tasks?TagId={tag}&limit={limit}&offset={}", listed.len());
            let page = expect(stack.get(&path, &ann).await, StatusCode::OK).await;
            let page = page.as_array().unwrap().clone();
            assert!(!page.is_empty());
            listed.extend(
                page.iter()
                    .map(|t| (id(t), t["position"].as_i64().unwrap())),
            );
        }
        assert_eq!(listed, tagged, "pages of {limit}");
    }

    // The organization's board lists every column at positions 1..n.
    let board = expect(
        stack
            .get(
                &format!("/tasks?OrganizationId={org}&limit=11&offset=40"),
                &ann,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let positions: Vec<(i64, i64)> = board
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (id(t), t["position"].as_i64().unwrap()))
        .collect();
    let mut whole: Vec<(i64, i64)> = expected.clone();
    whole.push((moved["id"].as_i64().unwrap(), 1));
    assert_eq!(positions, whole[40..].to_vec());
}

/// A run of moves of every kind, each checked against `place`'s order as it
/// is answered: within a column (to the first place, before and after the
/// task's own place, onto it, to the end, past it, below 1, with no
/// position), across columns (to the first place, the middle, the end,
/// past it, with no position) and into a column emptied by the moves.
/// Every answer says the position the order gives the task; the columns
/// list exactly that order at positions 1..n along the way.
#[tokio::test]
async fn every_kind_of_move_lands_where_the_order_places_it() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let org = id(&organization);
    let columns: Vec<i64> = (0..3).map(|i| id(&organization["Categories"][i])).collect();
    let mut orders: Vec<Vec<i64>> = vec![Vec::new(); 3];
    for (c, count) in [(0, 9), (1, 3)] {
        for n in 0..count {
            let task = stack
                .task(&ann, org, columns[c], &format!("Task {c}.{n}"))
                .await;
            orders[c].push(id(&task));
        }
    }
    // (from column, index of the task in it, to column, position).
    let moves: &[(usize, usize, usize, Option<i64>)] = &[
        (0, 4, 0, Some(1)),
        (0, 0, 0, Some(3)),
        (0, 5, 0, Some(2)),
        (0, 2, 0, Some(3)),
        (0, 3, 0, Some(4)),
        (0, 1, 0, Some(9)),
        (0, 0, 0, Some(10)),
        (0, 6, 0, Some(1000)),
        (0, 7, 0, Some(0)),
        (0, 8, 0, Some(-3)),
        (0, 3, 1, Some(1)),
        (0, 0, 1, Some(3)),
        (0, 0, 1, Some(6)),
        (0, 1, 1, Some(99)),
        (0, 2, 1, None),
        (1, 4, 2, Some(4)),
        (1, 0, 2, None),
        (1, 1, 1, None),
        (1, 2, 0, Some(2)),
        (2, 0, 2, Some(2)),
        (2, 1, 2, Some(1)),
        (1, 0, 0, Some(1)),
    ];
    for (step, &(from, at, to, position)) in moves.iter().enumerate() {
        let task = orders[from][at];
        let mut body = json!({});
        if from != to || position.is_none() {
            body["CategoryId"] = json!(columns[to]);
        }
        if let Some(position) = position {
            body["position"] = json!(position);
        }
        let moved = stack
            .patch(&format!("/tasks/{task}"), &ann, body.clone())
            .await;
        if from == to && position.is_none() {
            expect(moved, StatusCode::BAD_REQUEST).await;
            continue;
        }
        let moved = expect(moved, StatusCode::OK).await;
        orders[from].retain(|&t| t != task);
        orders[to] = place(&orders[to], task, position);
        let expected = orders[to].iter().position(|&t| t == task).unwrap() + 1;
        assert_eq!(moved["position"], expected, "move {step}: {body}");
        assert_eq!(moved["CategoryId"], columns[to], "move {step}");
        for (c, order) in orders.iter().enumerate() {
            let expected: Vec<(i64, i64)> = order.iter().copied().zip(1..).collect();
            let listed = column(&stack, &ann, columns[c], 1000).await;
            assert_eq!(listed, expected, "column {c} after move {step}: {body}");
        }
    }
    assert!(orders[2].len() >= 2 && orders[1].len() >= 2, "{orders:?}");
}

/// The ranks of the category's tasks, in order.
async fn ranks(db: &sea_orm::DatabaseConnection, category: i64) -> Vec<(i64, i64)> {
    let sql =
        format!("SELECT id, \"rank\" FROM tasks WHERE category_id = {category} ORDER BY \"rank\"");
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get("", "id").unwrap(),
                row.try_get("", "rank").unwrap(),
            )
        })
        .collect()
}

/// A creation ranks its task one gap past the column's highest rank. When
/// no integer is left that far past it (a rank near the largest there
/// is), the column is renumbered and the new task is still its last: the
/// answer and the list say position 3, and the order is kept.
#[tokio::test]
async fn a_creation_past_the_largest_rank_renumbers_the_column() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][1]));
    let first = id(&stack.task(&ann, org, todo, "First").await);
    let second = id(&stack.task(&ann, org, todo, "Second").await);
    let db = Database::connect(&stack.kanban_database).await.unwrap();
    let gap = RANK_GAP;
    assert_eq!(
        ranks(&db, todo).await,
        vec![(first, gap), (second, 2 * gap)]
    );

    let highest = i64::MAX - gap + 1;
    run(
        &db,
        &format!("UPDATE tasks SET \"rank\" = {highest} WHERE id = {second}"),
    )
    .await;
    let third = stack.task(&ann, org, todo, "Third").await;
    assert_eq!(third["position"], 3, "a creation answers its position");
    let third = id(&third);
    assert_eq!(
        ranks(&db, todo).await,
        vec![(first, gap), (second, 2 * gap), (third, 3 * gap)],
        "renumbered, the new task last"
    );
    assert_eq!(
        column(&stack, &ann, todo, 10).await,
        vec![(first, 1), (second, 2), (third, 3)]
    );

    // The column's top rank near the largest there is: renumbered again,
    // and the top rank with it.
    run(
        &db,
        &format!("UPDATE categories SET top_rank = {highest} WHERE id = {todo}"),
    )
    .await;
    let fourth = stack.task(&ann, org, todo, "Fourth").await;
    assert_eq!(fourth["position"], 4, "a creation answers its position");
    let fourth = id(&fourth);
    assert_eq!(
        ranks(&db, todo).await,
        vec![
            (first, gap),
            (second, 2 * gap),
            (third, 3 * gap),
            (fourth, 4 * gap)
        ],
        "renumbered, the new task last"
    );
    let fifth = id(&stack.task(&ann, org, todo, "Fifth").await);
    assert_eq!(ranks(&db, todo).await.last(), Some(&(fifth, 5 * gap)));
}

/// The SQL of `statement` on `db`'s backend.
async fn run(db: &sea_orm::DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A database at the last migration before ranks, holding tasks at dense
/// positions (not in id order), migrated to ranks (and on, to categories
/// keeping their number of tasks): each category's tasks keep their order,
/// ranked place × `RANK_GAP`, and their positions read as before; each
/// category's `task_count` is its number of tasks.
#[tokio::test]
async fn tasks_keep_their_order_when_ranks_arrive() {
    let dir = tempfile::TempDir::new().unwrap();
    let url = shared::testing::fresh_database(dir.path(), "ranks").await;
    let db = Database::connect(&url).await.unwrap();
    let before_ranks = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261205_000002_task_ranks")
        .expect("the ranks migration") as u32;
    Migrator::up(&db, Some(before_ranks)).await.unwrap();

    let now = "'2026-12-01T00:00:00Z'";
    run(
        &db,
        &format!(
            "INSERT INTO users (id, email, name, updated_at) VALUES (1, 'a@b.co', 'A', {now})"
        ),
    )
    .await;
    run(&db, &format!("INSERT INTO organizations (id, name, description, user_id, created_at, updated_at) VALUES (1, 'Board', '', 1, {now}, {now})")).await;
    for (category, position) in [(1, 1), (2, 2), (3, 3)] {
        run(&db, &format!("INSERT INTO categories (id, name, kind, organization_id, position, created_at, updated_at) VALUES ({category}, 'C{category}', 'custom', 1, {position}, {now}, {now})")).await;
    }
    // (id, category, position)
    let stored = [
        (1, 1, 3),
        (2, 1, 1),
        (3, 2, 2),
        (4, 1, 2),
        (5, 2, 1),
        (6, 1, 4),
    ];
    for (task, category, position) in stored {
        run(&db, &format!("INSERT INTO tasks (id, title, position, owner_id, category_id, organization_id, created_at, updated_at) VALUES ({task}, 'T{task}', {position}, 1, {category}, 1, {now}, {now})")).await;
    }

    Migrator::up(&db, None).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, category_id, \"rank\" FROM tasks ORDER BY category_id, \"rank\"",
        ))
        .await
        .unwrap();
    let ranked: Vec<(i64, i64, i64)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get("", "id").unwrap(),
                row.try_get("", "category_id").unwrap(),
                row.try_get("", "rank").unwrap(),
            )
        })
        .collect();
    let gap = RANK_GAP;
    assert_eq!(
        ranked,
        vec![
            (2, 1, gap),
            (4, 1, 2 * gap),
            (1, 1, 3 * gap),
            (6, 1, 4 * gap),
            (5, 2, gap),
            (3, 2, 2 * gap),
        ]
    );
    for (task, category, position) in stored {
        let now = kanban_service::store::tasks::by_id(&db, task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.category_id, category);
        assert_eq!(i64::from(now.position), position, "task {task}");
    }
    let counts = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, task_count, top_rank FROM categories ORDER BY id",
        ))
        .await
        .unwrap();
    let counts: Vec<(i64, i64, i64)> = counts
        .iter()
        .map(|row| {
            (
                row.try_get("", "id").unwrap(),
                row.try_get("", "task_count").unwrap(),
                row.try_get("", "top_rank").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![(1, 4, 4 * gap), (2, 2, 2 * gap), (3, 0, 0)],
        "task counts and top ranks"
    );
    // The old column is gone; a second rank in a category is refused.
    let position = db
        .execute_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT position FROM tasks",
        ))
        .await;
    assert!(position.is_err(), "tasks.position was dropped");
    let duplicate = db
        .execute_raw(Statement::from_string(
            db.get_database_backend(),
            format!("UPDATE tasks SET \"rank\" = {gap} WHERE id = 4"),
        ))
        .await;
    assert!(duplicate.is_err(), "(category_id, rank) is unique");
}
