//! Categories keep their number of tasks, so creations and moves answer
//! their position without counting the column: every answer is the
//! position a fresh list gives the task, and a creation answers its
//! column's length, after creations, deletions, moves across and within
//! columns (with a position, without, past the end, to the first), edits
//! that change the category and many writers at once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Stack, User, expect, id, spawn_stack};

/// The `X-Total-Count` of a list and its body.
async fn listed(stack: &Stack, user: &User, path: &str) -> (u64, Value) {
    let response = stack.get(path, user).await;
    let total = response.headers()["x-total-count"].to_str().unwrap();
    let total = total.parse().unwrap();
    (total, expect(response, StatusCode::OK).await)
}

/// The category's task ids, in list order, with the positions listed
/// (checked to be 1..n) and its total (checked to be n).
async fn column(stack: &Stack, user: &User, category: i64) -> Vec<i64> {
    let path = format!("/tasks?CategoryId={category}&limit=1000");
    let (total, list) = listed(stack, user, &path).await;
    let list = list.as_array().unwrap();
    assert_eq!(total, list.len() as u64, "category {category}'s total");
    let positions: Vec<i64> = list
        .iter()
        .map(|t| t["position"].as_i64().unwrap())
        .collect();
    let dense: Vec<i64> = (1..=list.len() as i64).collect();
    assert_eq!(positions, dense, "category {category} lists 1..n");
    list.iter().map(id).collect()
}

/// The answer's position is the one its task has in a fresh list of the
/// column it answers.
async fn listed_as_answered(stack: &Stack, user: &User, answer: &Value) {
    let category = answer["CategoryId"].as_i64().unwrap();
    let listed = column(stack, user, category).await;
    let at = listed.iter().position(|&t| t == id(answer));
    let at = at.unwrap_or_else(|| panic!("task {} in {category}", id(answer)));
    assert_eq!(
        answer["position"].as_i64(),
        Some(at as i64 + 1),
        "task {} in category {category}: {listed:?}",
        id(answer)
    );
}

async fn create(stack: &Stack, user: &User, org: i64, category: i64, title: &str) -> Value {
    let created = stack.task(user, org, category, title).await;
    listed_as_answered(stack, user, &created).await;
    let length = column(stack, user, category).await.len() as i64;
    assert_eq!(created["position"], length, "a creation answers the length");
    created
}

async fn move_to(stack: &Stack, user: &User, task: i64, body: Value) -> Value {
    let path = format!("/tasks/{task}");
    let moved = expect(stack.patch(&path, user, body).await, StatusCode::OK).await;
    listed_as_answered(stack, user, &moved).await;
    moved
}

async fn edit(stack: &Stack, user: &User, task: i64, body: Value) -> Value {
    let path = format!("/tasks/{task}");
    let edited = expect(stack.put(&path, user, body).await, StatusCode::OK).await;
    listed_as_answered(stack, user, &edited).await;
    edited
}

async fn delete(stack: &Stack, user: &User, task: i64) {
    let path = format!("/tasks/{task}");
    expect(stack.delete(&path, user).await, StatusCode::OK).await;
}

/// A creation in each column answers its length (and is deleted again),
/// and the organization's lists (a first page and a later one) total what
/// its columns hold and page through the same cards as the whole list.
async fn probe(stack: &Stack, user: &User, org: i64, columns: &[i64]) {
    let mut held = 0;
    for &category in columns {
        let probe = create(stack, user, org, category, "Probe").await;
        delete(stack, user, id(&probe)).await;
        held += column(stack, user, category).await.len() as u64;
    }
    let whole = format!("/tasks?OrganizationId={org}&limit=1000");
    let (total, all) = listed(stack, user, &whole).await;
    assert_eq!(total, held, "organization {org}'s total");
    let all = all.as_array().unwrap().clone();
    for offset in [1, 3, held.saturating_sub(1), held, held + 2] {
        let path = format!("/tasks?OrganizationId={org}&limit=2&offset={offset}");
        let (total, page) = listed(stack, user, &path).await;
        assert_eq!(total, held, "{path}");
        let from = (offset as usize).min(all.len());
        let to = (from + 2).min(all.len());
        assert_eq!(page.as_array().unwrap(), &all[from..to], "{path}");
    }
}

#[tokio::test]
async fn writes_answer_the_positions_a_fresh_list_gives() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let org = id(&organization);
    let (todo, doing, done) = (
        id(&organization["Categories"][0]),
        id(&organization["Categories"][1]),
        id(&organization["Categories"][2]),
    );
    let columns = [todo, doing, done];
    let (stack, ann) = (&stack, &ann);

    // Creations, in two columns.
    let mut todos = Vec::new();
    for n in 0..6 {
        todos.push(id(
            &create(stack, ann, org, todo, &format!("Todo {n}")).await
        ));
    }
    let mut doings = Vec::new();
    for n in 0..3 {
        doings.push(id(
            &create(stack, ann, org, doing, &format!("Doing {n}")).await
        ));
    }

    // Deletions: from the middle and the end; the next creation is last.
    delete(stack, ann, todos[2]).await;
    delete(stack, ann, todos[5]).await;
    probe(stack, ann, org, &columns).await;

    // Across columns: to the end (no position), to 2, past the end, to 1.
    let moved = move_to(stack, ann, todos[0], json!({"CategoryId": doing})).await;
    assert_eq!(moved["position"], 4);
    let moved = move_to(
        stack,
        ann,
        todos[1],
        json!({"CategoryId": doing, "position": 2}),
    )
    .await;
    assert_eq!(moved["position"], 2);
    let moved = move_to(
        stack,
        ann,
        todos[3],
        json!({"CategoryId": doing, "position": 99}),
    )
    .await;
    assert_eq!(moved["position"], 6);
    let moved = move_to(
        stack,
        ann,
        doings[0],
        json!({"CategoryId": todo, "position": 1}),
    )
    .await;
    assert_eq!(moved["position"], 1);
    // Into an empty column, at a position past its end.
    let moved = move_to(
        stack,
        ann,
        doings[1],
        json!({"CategoryId": done, "position": 3}),
    )
    .await;
    assert_eq!(moved["position"], 1);
    probe(stack, ann, org, &columns).await;

    // Within a column: past the end, to the first, to the middle, to the
    // last exactly.
    let in_doing = column(stack, ann, doing).await;
    let moved = move_to(stack, ann, in_doing[0], json!({"position": 50})).await;
    assert_eq!(moved["position"], in_doing.len() as i64);
    let moved = move_to(stack, ann, in_doing[2], json!({"position": 1})).await;
    assert_eq!(moved["position"], 1);
    move_to(stack, ann, in_doing[1], json!({"position": 3})).await;
    let moved = move_to(stack, ann, in_doing[3], json!({"position": in_doing.len()})).await;
    assert_eq!(moved["position"], in_doing.len() as i64);
    // A move naming its own column is a move within it.
    move_to(
        stack,
        ann,
        in_doing[0],
        json!({"CategoryId": doing, "position": 2}),
    )
    .await;
    probe(stack, ann, org, &columns).await;

    // Edits: one that changes the category lands at its end; one that
    // does not keeps the position.
    let edited = edit(
        stack,
        ann,
        todos[4],
        json!({"title": "Moved", "CategoryId": done}),
    )
    .await;
    assert_eq!(
        edited["position"],
        column(stack, ann, done).await.len() as i64
    );
    assert_eq!(edited["title"], "Moved");
    let edited = edit(stack, ann, in_doing[2], json!({"title": "Renamed"})).await;
    assert_eq!(edited["position"], 1);
    edit(stack, ann, in_doing[2], json!({"CategoryId": doing})).await;
    probe(stack, ann, org, &columns).await;

    // A column emptied by deletions and moves counts from one again.
    for task in column(stack, ann, done).await {
        delete(stack, ann, task).await;
    }
    let first = create(stack, ann, org, done, "First again").await;
    assert_eq!(first["position"], 1);
    probe(stack, ann, org, &columns).await;

    // Sixteen creations at once in one column: each answers a distinct
    // position past the ones before, 1..n with them.
    let before = column(stack, ann, todo).await.len() as i64;
    let creations = (0..16).map(|n| async move {
        let title = format!("Burst {n}");
        stack.task(ann, org, todo, &title).await
    });
    let created = futures::future::join_all(creations).await;
    let mut positions: Vec<i64> = created
        .iter()
        .map(|t| t["position"].as_i64().unwrap())
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (before + 1..=before + 16).collect::<Vec<_>>());
    for task in &created {
        listed_as_answered(stack, ann, task).await;
    }

    // Sixteen moves at once, across the three columns and within them,
    // with and without positions; then every column's creation answers
    // its length, and every task answers as listed when moved once more.
    let tasks: Vec<i64> = created.iter().map(id).collect();
    let moves = (0..16).map(|n| {
        let body = match n % 4 {
            0 => json!({"CategoryId": columns[1 + n % 2]}),
            1 => json!({"CategoryId": columns[(n + 1) % 3], "position": 1}),
            2 => json!({"CategoryId": columns[(n + 2) % 3], "position": 1000}),
            _ => json!({"position": n / 2}),
        };
        let path = format!("/tasks/{}", tasks[n]);
        async move { expect(stack.patch(&path, ann, body).await, StatusCode::OK).await }
    });
    futures::future::join_all(moves).await;
    probe(stack, ann, org, &columns).await;
    for (n, task) in tasks.iter().enumerate() {
        let position = (n % 5) as i64 + 1;
        move_to(
            stack,
            ann,
            *task,
            json!({"CategoryId": columns[n % 3], "position": position}),
        )
        .await;
    }
    probe(stack, ann, org, &columns).await;
}
