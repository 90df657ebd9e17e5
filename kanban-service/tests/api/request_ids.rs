//! One request id across both services: kanban passes its request's id
//! (the caller's `X-Request-Id`) on to the account manager, whose audit log
//! records it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, expect, spawn_stack};

/// The account manager's audit events of `kind` for the user, as its admin
/// reads them.
async fn audit_events(
    stack: &crate::helpers::Stack,
    admin_token: &str,
    kind: &str,
    user: i64,
) -> Vec<Value> {
    let answer = stack
        .client
        .get(format!(
            "{}/api/v1/admin/audit?type={kind}&userId={user}",
            stack.auth_url
        ))
        .bearer_auth(admin_token)
        .send()
        .await
        .unwrap();
    let body = expect(answer, StatusCode::OK).await;
    body["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_login_through_kanban_is_audited_under_kanbans_request_id() {
    let stack = spawn_stack().await;
    // The first account is the account manager's admin.
    let admin = stack.user("Ada", "Admin", "ids-admin@example.com").await;
    let request_id = format!("abc-{}", uuid::Uuid::new_v4().simple());
    let login = stack
        .client
        .post(stack.url("/login"))
        .header("X-Request-Id", &request_id)
        .json(&json!({"email": "ids-admin@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.headers()["x-request-id"], request_id.as_str());
    expect(login, StatusCode::OK).await;
    let failed_id = format!("abc-{}", uuid::Uuid::new_v4().simple());
    let failed = stack
        .client
        .post(stack.url("/login"))
        .header("X-Request-Id", &failed_id)
        .json(&json!({"email": "ids-admin@example.com", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);

    let succeeded = audit_events(&stack, &admin.token, "login_succeeded", admin.id).await;
    assert!(
        succeeded
            .iter()
            .any(|event| event["requestId"] == request_id.as_str()),
        "no login_succeeded under {request_id}: {succeeded:?}"
    );
    let refused = audit_events(&stack, &admin.token, "login_failed", admin.id).await;
    assert!(
        refused
            .iter()
            .any(|event| event["requestId"] == failed_id.as_str()),
        "no login_failed under {failed_id}: {refused:?}"
    );
    // Without an id of the caller's, kanban makes one up and passes that on.
    let plain = stack
        .client
        .post(stack.url("/login"))
        .json(&json!({"email": "ids-admin@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let made_up = plain.headers()["x-request-id"].to_str().unwrap().to_owned();
    expect(plain, StatusCode::OK).await;
    let succeeded = audit_events(&stack, &admin.token, "login_succeeded", admin.id).await;
    assert!(
        succeeded
            .iter()
            .any(|event| event["requestId"] == made_up.as_str()),
        "no login_succeeded under kanban's own id {made_up}: {succeeded:?}"
    );
}
