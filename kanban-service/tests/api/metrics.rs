//! Kanban's `GET /metrics`: requests by route template, JWKS fetches, the
//! revocation follower (scraped before and after; the recorder is the
//! process's, shared with every other test, so increases are "at least").

use reqwest::StatusCode;
use serde_json::json;
use shared::testing::Metrics;

use crate::helpers::{PASSWORD, expect, id, spawn_stack, until_refused};

#[tokio::test]
async fn metrics_count_board_reads_by_route_template_and_follow_revocations() {
    let stack = spawn_stack().await;
    let before = Metrics::scrape(&stack.client, &stack.kanban_url).await;

    let owner = stack
        .user("Metrics", "Owner", "metrics-owner@example.com")
        .await;
    let wrong = stack
        .send(
            reqwest::Method::POST,
            "/login",
            None,
            Some(json!({"email": "metrics-owner@example.com", "password": format!("{PASSWORD}-not")})),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let organization = id(&stack.organization(&owner, "Metrics board").await);
    for _ in 0..4 {
        let path = format!("/organizations/{organization}");
        expect(stack.get(&path, &owner).await, StatusCode::OK).await;
    }
    let logout = stack.auth_post("/api/v1/auth/logout", &owner.token).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    until_refused(&stack, &owner.token).await;

    let after = Metrics::scrape(&stack.client, &stack.kanban_url).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    let requests = shared::metrics::HTTP_REQUESTS;
    let board_read = [
        ("method", "GET"),
        ("route", "/organizations/:id"),
        ("status", "200"),
    ];
    assert!(moved(requests, &board_read) >= 4.0);
    assert!(after.has_histogram(shared::metrics::HTTP_DURATION, &board_read));
    let failed_login = [("method", "POST"), ("route", "/login"), ("status", "401")];
    assert!(moved(requests, &failed_login) >= 1.0);
    let routes = after.label_values(requests, "route");
    assert!(
        routes.iter().all(|route| route
            .split('/')
            .all(|segment| segment.parse::<i64>().is_err())),
        "no raw path with an id is a label: {routes:?}"
    );
    // Kanban fetched the account manager's keys at start (the recorder is
    // installed before that) and applied the logout's facts from the feed.
    assert!(after.value(shared::metrics::JWKS_FETCHES, &[("outcome", "ok")]) >= 1.0);
    assert!(moved(shared::metrics::REVOCATIONS_APPLIED, &[]) >= 1.0);
    assert!(after.value(shared::metrics::REVOCATION_FEED_HEARD, &[]) > 0.0);
    assert_eq!(
        after.value(shared::metrics::REVOCATION_SET_CURRENT, &[]),
        1.0
    );
    // The account manager counted the failed login that came through kanban.
    let auth = Metrics::scrape(&stack.client, &stack.auth_url).await;
    assert!(auth.value(shared::metrics::LOGINS, &[("outcome", "bad_credentials")]) >= 1.0);
}
