//! Card lists reserve room in the card budget: lists larger than the whole
//! budget, and more lists at once than it holds, still answer in full.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect, id, spawn_stack_custom};

#[tokio::test]
async fn lists_beyond_the_card_budget_wait_their_turn_and_answer_in_full() {
    let redis = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    // Room for five cards: every list below asks for more than that.
    let stack = spawn_stack_custom(redis, vec![("KANBAN_CARDS_IN_FLIGHT", "5".into())]).await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][1]));
    for n in 0..12 {
        stack.task(&ann, org, todo, &format!("Task {n}")).await;
    }

    let lists = (0..8).map(|n| {
        let limit = if n % 2 == 0 {
            String::new()
        } else {
            "&limit=7".into()
        };
        let request = stack
            .client
            .get(stack.url(&format!("/tasks?OrganizationId={org}{limit}")))
            .header("access_token", &ann.token);
        async move { request.send().await.unwrap() }
    });
    for (n, response) in futures::future::join_all(lists)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(response.headers()["X-Total-Count"], "12");
        let cards: Value = expect(response, StatusCode::OK).await;
        let titles: Vec<&str> = cards
            .as_array()
            .unwrap()
            .iter()
            .map(|card| card["title"].as_str().unwrap())
            .collect();
        let answered = if n % 2 == 0 { 12 } else { 7 };
        let expected: Vec<String> = (0..answered).map(|k| format!("Task {k}")).collect();
        assert_eq!(titles, expected, "list {n}");
    }
}
