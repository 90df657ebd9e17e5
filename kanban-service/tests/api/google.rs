//! seed 000's `POST /google-login`, end to end: kanban forwards the Google
//! ID token (sent as `google_access_token`) to the account manager, which
//! verifies it against the stack's local Google issuer.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Stack, expect, expect_msg, spawn_stack, spawn_stack_full};

async fn google_login(stack: &Stack, body: Value) -> reqwest::Response {
    stack
        .client
        .post(stack.url("/google-login"))
        .header("User-Agent", "seed-000-client/1.0")
        .json(&body)
        .send()
        .await
        .expect("request")
}

fn id_token(stack: &Stack, sub: &str, email: &str) -> String {
    let mut claims = stack.google.claims(sub, email);
    claims["given_name"] = json!("Yosia");
    claims["family_name"] = json!("Elnino");
    stack.google.id_token(&claims)
}

#[tokio::test]
async fn google_login_through_kanban_answers_a_token_that_works_at_user() {
    let stack = spawn_stack().await;
    let token = id_token(&stack, "106791679016", "yosia.elnino@gmail.com");
    let answer = expect(
        google_login(&stack, json!({"google_access_token": token})).await,
        StatusCode::OK,
    )
    .await;
    // Seed 000's answer: the access token, nothing else.
    let fields: Vec<&String> = answer.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["access_token"]);
    let access = answer["access_token"].as_str().unwrap();

    let user = expect(
        stack.send(Method::GET, "/user", Some(access), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(user["name"], "Yosia Elnino");
    assert_eq!(user["email"], "yosia.elnino@gmail.com");
    // The token is a board user's like any other.
    let created = stack
        .send(
            Method::POST,
            "/organizations",
            Some(access),
            Some(json!({"name": "Google board", "description": "made after Google sign-in"})),
        )
        .await;
    expect(created, StatusCode::CREATED).await;

    // The session at the account manager shows the caller's user agent
    // (kanban passes it on, with the caller's address).
    let sessions = stack
        .client
        .get(format!("{}/api/v1/auth/sessions", stack.auth_url))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let sessions = expect(sessions, StatusCode::OK).await;
    assert_eq!(sessions[0]["userAgent"], "seed-000-client/1.0");
    assert_eq!(sessions[0]["ipAddress"], "127.0.0.1");

    // Signing in again finds the same account.
    let again = expect(
        google_login(&stack, json!({"google_access_token": token})).await,
        StatusCode::OK,
    )
    .await;
    let again = again["access_token"].as_str().unwrap();
    let same = expect(
        stack.send(Method::GET, "/user", Some(again), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(same["id"], user["id"]);
}

#[tokio::test]
async fn bad_google_tokens_and_refused_accounts_answer_in_the_seed_shape() {
    let stack = spawn_stack().await;
    let claims = stack.google.claims("sub-1", "someone@gmail.com");
    for token in [
        stack.google.forged_token(&claims),
        stack.google.token_with_unknown_kid(&claims),
        "not-a-token".to_owned(),
    ] {
        let body = expect(
            google_login(&stack, json!({"google_access_token": token})).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(body, json!({"msg": "Google authentication failed"}));
    }
    for missing in [json!({}), json!({"google_access_token": "  "})] {
        let body = expect(google_login(&stack, missing).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(body, json!({"msg": "google_access_token is required"}));
    }

    // A disabled account answers as kanban's login does (the first
    // account is the admin, who may not disable themselves).
    stack.user("Ada", "Min", "ada@mail.com").await;
    let ann = stack.user("Ann", "Lee", "ann@mail.com").await;
    let disabled = stack
        .client
        .post(format!("{}/api/v1/auth/disable", stack.auth_url))
        .bearer_auth(&ann.token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    let token = id_token(&stack, "ann-sub", "ann@mail.com");
    expect_msg(
        google_login(&stack, json!({"google_access_token": token})).await,
        StatusCode::UNAUTHORIZED,
        "This account is disabled",
    )
    .await;
}

#[tokio::test]
async fn google_login_without_google_at_the_account_manager_is_501() {
    let stack = spawn_stack_full(
        None,
        vec![("AUTH_GOOGLE_CLIENT_IDS", String::new())],
        Vec::new(),
    )
    .await;
    let token = id_token(&stack, "sub-2", "nobody@gmail.com");
    expect_msg(
        google_login(&stack, json!({"google_access_token": token})).await,
        StatusCode::NOT_IMPLEMENTED,
        "Not implemented: Google sign-in is not configured",
    )
    .await;
}

#[tokio::test]
async fn google_logins_through_kanban_are_rate_limited_per_caller() {
    let stack = spawn_stack_full(
        None,
        vec![("AUTH_LOGIN_LIMIT", "1/60".to_owned())],
        Vec::new(),
    )
    .await;
    let token = id_token(&stack, "sub-3", "limited@gmail.com");
    expect(
        google_login(&stack, json!({"google_access_token": token})).await,
        StatusCode::OK,
    )
    .await;
    let limited = expect(
        google_login(&stack, json!({"google_access_token": token})).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(
        limited["msg"]
            .as_str()
            .unwrap()
            .starts_with("Too many attempts"),
        "{limited}"
    );
}
