//! Concurrent moves keep positions dense and ordered.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect, id, spawn_stack};

#[tokio::test]
async fn concurrent_moves_leave_a_gap_free_order() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo, doing) = (
        id(&organization),
        id(&organization["Categories"][1]),
        id(&organization["Categories"][2]),
    );
    let mut tasks = Vec::new();
    for n in 0..10 {
        tasks.push(id(&stack.task(&ann, org, todo, &format!("Task {n}")).await));
    }

    // Twenty moves at once: within the category, and across to another one.
    let moves = (0..20).map(|n| {
        let task = tasks[(n * 7) % tasks.len()];
        let body = if n % 4 == 3 {
            json!({"CategoryId": doing, "position": 1})
        } else {
            json!({"position": (n % 10) + 1})
        };
        let request = stack
            .client
            .patch(stack.url(&format!("/tasks/{task}")))
            .header("access_token", &ann.token)
            .json(&body);
        async move { request.send().await.unwrap().status() }
    });
    let statuses = futures::future::join_all(moves).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );

    let mut seen = 0;
    for category in [todo, doing] {
        let list = expect(
            stack
                .get(&format!("/tasks?CategoryId={category}"), &ann)
                .await,
            StatusCode::OK,
        )
        .await;
        let positions: Vec<i64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["position"].as_i64().unwrap())
            .collect();
        let expected: Vec<i64> = (1..=positions.len() as i64).collect();
        assert_eq!(positions, expected, "category {category}");
        seen += positions.len();
    }
    assert_eq!(seen, tasks.len());
}

#[tokio::test]
async fn concurrent_creates_append_without_duplicate_positions() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][1]));
    let creates = (0..12).map(|n| {
        let body = json!({"title": format!("T{n}"), "OrganizationId": org, "CategoryId": todo});
        let request = stack
            .client
            .post(stack.url("/tasks"))
            .header("access_token", &ann.token)
            .json(&body);
        async move { request.send().await.unwrap().status() }
    });
    let statuses = futures::future::join_all(creates).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let list = expect(
        stack.get(&format!("/tasks?CategoryId={todo}"), &ann).await,
        StatusCode::OK,
    )
    .await;
    let positions: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, (1..=12).collect::<Vec<i64>>());
}
