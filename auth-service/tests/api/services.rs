use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_ID, TestApp, claims_of, expect, spawn_app,
};

async fn service_token(app: &TestApp, client_id: &str) -> String {
    let body = json!({"clientId": client_id, "clientSecret": CLIENT_SECRET});
    let answer = expect(
        app.post("/api/v1/auth/token/service", &body).await,
        StatusCode::OK,
    )
    .await;
    answer["token"].as_str().unwrap().to_owned()
}

async fn get_with(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn client_credentials_give_a_scoped_service_token() {
    let app = spawn_app().await;
    let token = service_token(&app, CLIENT_ID).await;
    let claims = claims_of(&token);
    assert_eq!(claims["typ"], "service");
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(
        claims["scope"],
        "users:read revocations:read sessions:extended"
    );

    for body in [
        json!({"clientId": CLIENT_ID, "clientSecret": "wrong-secret-0123456789"}),
        json!({"clientId": "nobody", "clientSecret": CLIENT_SECRET}),
    ] {
        let answer = expect(
            app.post("/api/v1/auth/token/service", &body).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(answer["msg"], "Unauthorized: Invalid client credentials.");
        assert_eq!(answer["code"], "invalid_client");
    }
    expect(
        app.post(
            "/api/v1/auth/token/service",
            &json!({"clientId": CLIENT_ID}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // A service token is not an access token.
    expect(app.me(&token).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn services_look_users_up_by_email_and_id() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    app.register("bob@example.com").await;
    let token = service_token(&app, CLIENT_ID).await;

    let ann = expect(
        get_with(&app, "/api/v1/users/lookup?email=ANN@example.com", &token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ann["id"], 1);
    assert_eq!(ann["email"], "ann@example.com");
    let unknown = get_with(
        &app,
        "/api/v1/users/lookup?email=nobody@example.com",
        &token,
    )
    .await;
    let unknown = expect(unknown, StatusCode::NOT_FOUND).await;
    assert_eq!(unknown["msg"], "Not Found: No such user.");
    assert_eq!(unknown["code"], "user_not_found");

    let users = expect(
        get_with(&app, "/api/v1/users?ids=2,1,99", &token).await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<i64> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2]);
    expect(
        get_with(&app, "/api/v1/users?ids=1,x", &token).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn user_look_ups_need_a_service_token_with_the_scope() {
    let app = spawn_app().await;
    let session = app.register("ann@example.com").await;
    let path = "/api/v1/users/lookup?email=ann@example.com";
    expect(app.get(path).await, StatusCode::UNAUTHORIZED).await;
    // A user's access token is not a service token.
    expect(
        get_with(&app, path, session["token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unscoped = service_token(&app, OTHER_CLIENT_ID).await;
    let refused = expect(get_with(&app, path, &unscoped).await, StatusCode::FORBIDDEN).await;
    assert_eq!(refused["msg"], "Forbidden: Scope users:read required.");
    assert_eq!(refused["code"], "insufficient_scope");
}

#[tokio::test]
async fn users_change_their_names() {
    let app = spawn_app().await;
    let session = app.register("ann@example.com").await;
    let token = session["token"].as_str().unwrap();
    let changed = app
        .client
        .patch(app.url("/api/v1/auth/me"))
        .bearer_auth(token)
        .json(&json!({"firstName": "Ann", "lastName": "Lee"}))
        .send()
        .await
        .unwrap();
    let changed = expect(changed, StatusCode::OK).await;
    assert_eq!(
        (changed["firstName"].as_str(), changed["lastName"].as_str()),
        (Some("Ann"), Some("Lee"))
    );
    let fresh = app.login("ann@example.com").await;
    assert_eq!(
        claims_of(fresh["token"].as_str().unwrap())["name"],
        "Ann Lee"
    );
    let too_long = app
        .client
        .patch(app.url("/api/v1/auth/me"))
        .bearer_auth(token)
        .json(&json!({"firstName": "x".repeat(101)}))
        .send()
        .await
        .unwrap();
    expect(too_long, StatusCode::BAD_REQUEST).await;
}
