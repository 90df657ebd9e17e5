//! Seed 003 (the `X-Access-Token` dialect): every request and answer of
//! its document, the `/api/v1/user/` paths its browser client calls,
//! tokens a browser decodes with `atob`, refresh tokens that are not
//! rotated, and the same accounts and sessions as every other dialect.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, TestDatabase, expect, settings_for, spawn_app, spawn_with,
};

/// A seed-003 call: the client sends `X-Access-Token` on every call, the
/// string `null` when it has none.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    access: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("X-Access-Token", access.unwrap_or("null"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    call(app, Method::POST, path, None, Some(body)).await
}

async fn signup(app: &TestApp, username: &str, email: &str) -> Value {
    let answer = post(
        app,
        "/api/v1/user/signup",
        json!({"username": username, "email": email, "password": PASSWORD}),
    )
    .await;
    let tokens = expect(answer, StatusCode::CREATED).await;
    assert_tokens(&tokens);
    tokens
}

async fn login(app: &TestApp, path: &str, username: &str) -> Value {
    let answer = post(
        app,
        path,
        json!({"username": username, "password": PASSWORD}),
    )
    .await;
    let tokens = expect(answer, StatusCode::CREATED).await;
    assert_tokens(&tokens);
    tokens
}

async fn refresh(app: &TestApp, path: &str, refresh_token: &Value) -> reqwest::Response {
    post(app, path, json!({"refresh_token": refresh_token})).await
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

/// Exactly the two tokens, distinct.
fn assert_tokens(answer: &Value) {
    let fields: Vec<_> = answer.as_object().unwrap().keys().cloned().collect();
    assert_eq!(fields, ["access_token", "refresh_token"], "{answer}");
    assert_ne!(answer["access_token"], answer["refresh_token"]);
}

/// The payload of a JWT as a browser reads it: `atob` (plain base64,
/// which refuses `-` and `_`), then `JSON.parse`.
fn browser_payload(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT: {token}");
    assert!(
        !parts[1].contains(['-', '_']),
        "atob would throw on {}",
        parts[1]
    );
    let bytes = STANDARD_NO_PAD.decode(parts[1]).expect("plain base64");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// A seed-003 failure: `{status, reason}` and nothing else.
async fn failure(answer: reqwest::Response, status: StatusCode) -> Value {
    let body = expect(answer, status).await;
    let fields: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(fields, ["reason", "status"], "{body}");
    assert!(!text(&body["reason"]).is_empty());
    body
}

#[tokio::test]
async fn the_documented_requests_get_the_documented_answers() {
    let app = spawn_app().await;
    signup(&app, "ann", "ann@example.com").await;

    // POST /login: 201 with distinct tokens, by username or email.
    let tokens = login(&app, "/login", "ann").await;
    login(&app, "/login", "ANN@example.com").await;
    let wrong = post(
        &app,
        "/login",
        json!({"username": "ann", "password": "not her password"}),
    )
    .await;
    let wrong = failure(wrong, StatusCode::UNAUTHORIZED).await;
    assert_eq!(wrong["status"], "BAD REQUEST");

    // POST /login/refresh: 201 with a new access token only.
    let refreshed = refresh(&app, "/login/refresh", &tokens["refresh_token"]).await;
    let refreshed = expect(refreshed, StatusCode::CREATED).await;
    let fields: Vec<_> = refreshed.as_object().unwrap().keys().cloned().collect();
    assert_eq!(fields, ["access_token"]);
    assert_ne!(refreshed["access_token"], tokens["access_token"]);
    let forged = refresh(&app, "/login/refresh", &json!("forged")).await;
    assert_eq!(
        failure(forged, StatusCode::UNAUTHORIZED).await["status"],
        "BAD REQUEST"
    );

    // DELETE /login: X-Access-Token and the refresh token; 204.
    let access = text(&refreshed["access_token"]);
    assert_eq!(app.me(access).await.status(), StatusCode::OK);
    let logout = call(
        &app,
        Method::DELETE,
        "/login",
        Some(access),
        Some(json!({"refresh_token": tokens["refresh_token"]})),
    )
    .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let after = refresh(&app, "/login/refresh", &tokens["refresh_token"]).await;
    failure(after, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    let again = call(
        &app,
        Method::DELETE,
        "/login",
        Some(access),
        Some(json!({"refresh_token": tokens["refresh_token"]})),
    )
    .await;
    failure(again, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn the_browser_client_paths_work_with_x_access_token() {
    let app = spawn_app().await;
    // Signup with names; `X-Access-Token: null` on signup, login, refresh.
    let created = post(
        &app,
        "/api/v1/user/signup",
        json!({"username": "zoe", "email": "zoe@example.com", "password": PASSWORD,
               "first_name": "Zoë", "last_name": "O'Brien ~>?"}),
    )
    .await;
    assert_tokens(&expect(created, StatusCode::CREATED).await);
    for (username, email) in [("zoe", "other@example.com"), ("zed", "ZOE@example.com")] {
        let taken = post(
            &app,
            "/api/v1/user/signup",
            json!({"username": username, "email": email, "password": PASSWORD}),
        )
        .await;
        assert_eq!(
            failure(taken, StatusCode::CONFLICT).await["status"],
            "CONFLICT"
        );
    }

    // An expired or forged token in the header does not stop a login.
    let tokens = {
        let answer = call(
            &app,
            Method::POST,
            "/api/v1/user/login",
            Some("eyJhbGciOiJFZERTQSJ9.e30.c2ln"),
            Some(json!({"username": "zoe", "password": PASSWORD})),
        )
        .await;
        expect(answer, StatusCode::CREATED).await
    };
    let refreshed = refresh(&app, "/api/v1/user/login/refresh", &tokens["refresh_token"]).await;
    let access = expect(refreshed, StatusCode::CREATED).await["access_token"].clone();

    // GET /api/v1/user with X-Access-Token.
    let user = call(&app, Method::GET, "/api/v1/user", Some(text(&access)), None).await;
    let user = expect(user, StatusCode::OK).await;
    assert_eq!(user["username"], "zoe");
    assert_eq!(user["email"], "zoe@example.com");
    assert_eq!(user["first_name"], "Zoë");
    assert_eq!(user["last_name"], "O'Brien ~>?");
    let anonymous = call(&app, Method::GET, "/api/v1/user", None, None).await;
    failure(anonymous, StatusCode::UNAUTHORIZED).await;
    let bearer_only = app.get_auth("/api/v1/user", text(&access)).await;
    failure(bearer_only, StatusCode::UNAUTHORIZED).await;

    // Logout with the refresh token alone (the access token expired or
    // `null`): the session ends all the same.
    let logout = call(
        &app,
        Method::DELETE,
        "/api/v1/user/login",
        None,
        Some(json!({"refresh_token": tokens["refresh_token"]})),
    )
    .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let user = call(&app, Method::GET, "/api/v1/user", Some(text(&access)), None).await;
    failure(user, StatusCode::UNAUTHORIZED).await;
    let after = refresh(&app, "/api/v1/user/login/refresh", &tokens["refresh_token"]).await;
    failure(after, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn both_tokens_decode_in_a_browser_with_their_expiry_in_milliseconds() {
    let app = spawn_app().await;
    // Names with characters whose base64 would hold `-` or `_`, and enough
    // logins that every alignment of them is met.
    let created = post(
        &app,
        "/api/v1/user/signup",
        json!({"username": "tilde", "email": "t~>?@example.com", "password": PASSWORD,
               "first_name": "Ünïcødé ~>?~>?", "last_name": "😀 >>> ???"}),
    )
    .await;
    let mut seen = vec![expect(created, StatusCode::CREATED).await];
    for _ in 0..12 {
        seen.push(login(&app, "/api/v1/user/login", "tilde").await);
    }
    for tokens in &seen {
        let access = browser_payload(text(&tokens["access_token"]));
        let refresh = browser_payload(text(&tokens["refresh_token"]));
        assert_eq!(access["typ"], "access");
        assert_eq!(refresh["typ"], "refresh");
        assert_eq!(access["name"], "Ünïcødé ~>?~>? 😀 >>> ???");
        for claims in [&access, &refresh] {
            let exp = claims["exp"].as_i64().unwrap();
            assert_eq!(claims["expiration"].as_i64().unwrap(), exp * 1000);
            assert!(exp * 1000 > chrono::Utc::now().timestamp_millis());
        }
        // The refresh token lives longer than the access token.
        assert!(refresh["exp"].as_i64() > access["exp"].as_i64());
        // The refresh token is no access token anywhere.
        let refresh_token = text(&tokens["refresh_token"]);
        assert_eq!(
            app.me(refresh_token).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let validated = expect(app.validate(refresh_token).await, StatusCode::OK).await;
        assert_eq!(validated["isValid"], false);
    }
    // Every token is unique.
    let mut all: Vec<&Value> = seen
        .iter()
        .flat_map(|tokens| [&tokens["access_token"], &tokens["refresh_token"]])
        .collect();
    all.sort_by_key(|token| text(token).to_owned());
    all.dedup();
    assert_eq!(all.len(), seen.len() * 2);
}

#[tokio::test]
async fn fifty_refreshes_with_one_refresh_token_then_logout_refuses_it() {
    let app = spawn_app().await;
    let tokens = signup(&app, "fifty", "fifty@example.com").await;
    let mut accesses = Vec::new();
    for round in 0..50 {
        let answer = refresh(&app, "/login/refresh", &tokens["refresh_token"]).await;
        let answer = expect(answer, StatusCode::CREATED).await;
        accesses.push(answer["access_token"].as_str().unwrap().to_owned());
        if round % 10 == 0 {
            assert_eq!(
                app.me(accesses.last().unwrap()).await.status(),
                StatusCode::OK
            );
        }
    }
    let mut unique = accesses.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 50, "every access token is new");

    let logout = call(
        &app,
        Method::DELETE,
        "/login",
        Some(accesses.last().unwrap()),
        Some(json!({"refresh_token": tokens["refresh_token"]})),
    )
    .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let after = refresh(&app, "/login/refresh", &tokens["refresh_token"]).await;
    failure(after, StatusCode::UNAUTHORIZED).await;
    for access in [&accesses[0], &accesses[49]] {
        assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_fixed_refresh_token_expires_and_never_slides() {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.tokens.fixed_refresh_ttl = Duration::from_secs(2);
    let app = spawn_with(settings, db).await;
    let tokens = signup(&app, "brief", "brief@example.com").await;
    let expiry = browser_payload(text(&tokens["refresh_token"]))["exp"]
        .as_i64()
        .unwrap();
    // Used until it expires: refreshes do not extend it.
    let ok = refresh(&app, "/login/refresh", &tokens["refresh_token"]).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let wait = expiry + 1 - chrono::Utc::now().timestamp();
    tokio::time::sleep(Duration::from_secs(wait.max(0) as u64) + Duration::from_millis(200)).await;
    let expired = refresh(&app, "/login/refresh", &tokens["refresh_token"]).await;
    failure(expired, StatusCode::UNAUTHORIZED).await;
    // Rotating sessions keep their own, longer lifetime.
    let native = app.register("native@example.com").await;
    let refreshed = app.refresh(native["refreshToken"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
}

#[tokio::test]
async fn sessions_are_shared_with_the_other_dialects() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let admin_token = admin["token"].as_str().unwrap().to_owned();

    // A seed-003 account logs in natively, through seeds 001 and 002; its
    // access token works at the native routes.
    let tokens = signup(&app, "gina", "gina@example.com").await;
    let me = expect(app.me(text(&tokens["access_token"])).await, StatusCode::OK).await;
    assert_eq!(me["username"], "gina");
    let gina_id = me["id"].as_i64().unwrap();
    let native = expect(app.login_with("gina", PASSWORD).await, StatusCode::OK).await;
    let simplejwt = app
        .post(
            "/auth/token",
            &json!({"username": "gina", "password": PASSWORD}),
        )
        .await;
    expect(simplejwt, StatusCode::OK).await;
    let laravel = app
        .post(
            "/api/v1/login",
            &json!({"email": "gina@example.com", "password": PASSWORD}),
        )
        .await;
    expect(laravel, StatusCode::OK).await;

    // A native account logs in through seed 003 by email.
    app.register("hal@example.com").await;
    login(&app, "/login", "hal@example.com").await;

    // Seed 003's refresh token refreshes at the native route too, and
    // stays the same there; a native (rotating) refresh token is refused
    // by seed 003's refresh, which could not hand its successor over.
    let native_refresh = app.refresh(text(&tokens["refresh_token"])).await;
    let native_refresh = expect(native_refresh, StatusCode::OK).await;
    assert_eq!(native_refresh["refreshToken"], tokens["refresh_token"]);
    let rotating = refresh(&app, "/login/refresh", &native["refreshToken"]).await;
    failure(rotating, StatusCode::UNAUTHORIZED).await;
    let still = app.refresh(native["refreshToken"].as_str().unwrap()).await;
    assert_eq!(
        still.status(),
        StatusCode::OK,
        "the refusal changed nothing"
    );

    // Disabled and banned accounts answer seed 003's 401.
    let gina_native = native["token"].as_str().unwrap();
    let disabled = app
        .post_json_auth(
            "/api/v1/auth/disable",
            gina_native,
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    let refused = post(
        &app,
        "/login",
        json!({"username": "gina", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        failure(refused, StatusCode::UNAUTHORIZED).await["reason"],
        "This account is disabled."
    );
    let ended = refresh(&app, "/login/refresh", &tokens["refresh_token"]).await;
    assert_eq!(
        failure(ended, StatusCode::UNAUTHORIZED).await["reason"],
        "This account is disabled."
    );
    let banned = app
        .patch_auth(
            &format!("/api/v1/admin/users/{gina_id}"),
            &admin_token,
            &json!({"status": "banned"}),
        )
        .await;
    assert_eq!(banned.status(), StatusCode::OK);
    let refused = post(
        &app,
        "/api/v1/user/login",
        json!({"username": "gina@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        failure(refused, StatusCode::UNAUTHORIZED).await["reason"],
        "This account is banned."
    );
}

#[tokio::test]
async fn malformed_bodies_answer_in_seed_003_shape_and_change_nothing() {
    let app = spawn_app().await;
    let routes = [
        (Method::POST, "/login"),
        (Method::POST, "/login/refresh"),
        (Method::DELETE, "/login"),
        (Method::POST, "/api/v1/user/login"),
        (Method::POST, "/api/v1/user/login/refresh"),
        (Method::DELETE, "/api/v1/user/login"),
        (Method::POST, "/api/v1/user/signup"),
    ];
    for (method, path) in routes {
        for (content_type, body) in [
            ("application/json", "{not json"),
            ("application/json", "[1, 2]"),
            ("application/json", "\"text\""),
            ("text/plain", "hello"),
            ("application/json", ""),
            ("application/json", "{}"),
            (
                "application/json",
                r#"{"username": {"a": 1}, "password": [1], "refresh_token": {}, "email": []}"#,
            ),
            (
                "application/json",
                r#"{"username": null, "password": null, "refresh_token": null, "email": null}"#,
            ),
            (
                "application/json",
                r#"{"username": 5, "password": true, "refresh_token": 7, "email": 1.5}"#,
            ),
        ] {
            let answer = app
                .client
                .request(method.clone(), app.url(path))
                .header("content-type", content_type)
                .header("X-Access-Token", "null")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = answer.status();
            assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED,
                "{method} {path} {body}: {status}"
            );
            let body = failure(answer, status).await;
            assert_eq!(body["status"], "BAD REQUEST");
        }
    }
    // Nothing was created.
    let login = post(&app, "/login", json!({"username": "5", "password": "true"})).await;
    failure(login, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn over_the_limit_answers_a_seed_003_429() {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.limits.login = auth_service::throttle::Limit {
        count: 2,
        window: Duration::from_secs(600),
    };
    let app = spawn_with(settings, db).await;
    let body = json!({"username": "nobody", "password": PASSWORD});
    for _ in 0..2 {
        let refused = post(&app, "/login", body.clone()).await;
        failure(refused, StatusCode::UNAUTHORIZED).await;
    }
    let limited = post(&app, "/login", body).await;
    assert!(limited.headers().contains_key("retry-after"));
    let answer = failure(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(answer["status"], "TOO MANY REQUESTS");
}
