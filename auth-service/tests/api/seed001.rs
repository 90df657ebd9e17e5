//! Seed 001 (the simplejwt dialect): every request and answer of its
//! document, JSON and form bodies, its error shapes for every refusal, and
//! the same accounts and sessions as the native dialect.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, TestDatabase, expect, settings_for, spawn_app, spawn_with,
};

async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.post(path, &body).await
}

async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .expect("request")
}

async fn register(app: &TestApp, username: &str) -> Value {
    let answer = post(
        app,
        "/auth/register",
        json!({"username": username, "password": PASSWORD}),
    )
    .await;
    expect(answer, StatusCode::CREATED).await
}

fn assert_pair(answer: &Value) {
    let fields: Vec<_> = answer.as_object().unwrap().keys().cloned().collect();
    assert_eq!(fields, ["access", "refresh"], "{answer}");
    assert_eq!(answer["access"].as_str().unwrap().split('.').count(), 3);
}

async fn get_user(app: &TestApp, access: &str) -> reqwest::Response {
    app.client
        .get(app.url("/auth/getuser"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_documented_requests_get_the_documented_answers() {
    let app = spawn_app().await;

    // Register: 201 with a pair; missing fields per field; 409 when taken.
    let ann = register(&app, "ann").await;
    assert_pair(&ann);
    let missing = post(&app, "/auth/register", json!({})).await;
    assert_eq!(
        expect(missing, StatusCode::BAD_REQUEST).await,
        json!({"username": ["This field is required."], "password": ["This field is required."]})
    );
    let taken = post(
        &app,
        "/auth/register",
        json!({"username": "ANN", "password": "another passphrase"}),
    )
    .await;
    assert_eq!(
        expect(taken, StatusCode::CONFLICT).await,
        json!({"detail": "User already exists"})
    );

    // Token: 200 with a pair (the username in any case); 401 otherwise.
    let token = post(
        &app,
        "/auth/token",
        json!({"username": "Ann", "password": PASSWORD}),
    )
    .await;
    let pair = expect(token, StatusCode::OK).await;
    assert_pair(&pair);
    let wrong = post(
        &app,
        "/auth/token",
        json!({"username": "ann", "password": "not her password"}),
    )
    .await;
    assert_eq!(
        expect(wrong, StatusCode::UNAUTHORIZED).await["detail"],
        "No active account found with the given credentials"
    );
    let missing = post(&app, "/auth/token", json!({"username": ""})).await;
    assert_eq!(
        expect(missing, StatusCode::BAD_REQUEST).await,
        json!({"username": ["This field may not be blank."], "password": ["This field is required."]})
    );

    // Refresh: a new pair, the old refresh token rotated away.
    let refreshed = post(
        &app,
        "/auth/token/refresh",
        json!({"refresh": pair["refresh"]}),
    )
    .await;
    let refreshed = expect(refreshed, StatusCode::OK).await;
    assert_pair(&refreshed);
    assert_ne!(refreshed["refresh"], pair["refresh"]);
    let forged = post(&app, "/auth/token/refresh", json!({"refresh": "forged"})).await;
    assert_eq!(
        expect(forged, StatusCode::UNAUTHORIZED).await,
        json!({"detail": "Token is invalid or expired", "code": "token_not_valid"})
    );
    let missing = post(&app, "/auth/token/refresh", json!({})).await;
    assert_eq!(
        expect(missing, StatusCode::BAD_REQUEST).await,
        json!({"refresh": ["This field is required."]})
    );

    // Verify: {} for an access token; 401 for a refresh token or garbage.
    let verified = post(
        &app,
        "/auth/token/verify",
        json!({"token": refreshed["access"]}),
    )
    .await;
    assert_eq!(expect(verified, StatusCode::OK).await, json!({}));
    for token in [refreshed["refresh"].clone(), json!("garbage")] {
        let refused = post(&app, "/auth/token/verify", json!({"token": token})).await;
        assert_eq!(
            expect(refused, StatusCode::UNAUTHORIZED).await["code"],
            "token_not_valid"
        );
    }
    let missing = post(&app, "/auth/token/verify", json!({})).await;
    assert_eq!(
        expect(missing, StatusCode::BAD_REQUEST).await,
        json!({"token": ["This field is required."]})
    );

    // Get user: the username, with the bearer token.
    let user = get_user(&app, refreshed["access"].as_str().unwrap()).await;
    assert_eq!(
        expect(user, StatusCode::OK).await,
        json!({"username": "ann"})
    );
    let anonymous = app.get("/auth/getuser").await;
    assert_eq!(
        expect(anonymous, StatusCode::UNAUTHORIZED).await["detail"],
        "Authentication credentials were not provided."
    );
    let bad = get_user(&app, "garbage").await;
    assert_eq!(
        expect(bad, StatusCode::UNAUTHORIZED).await["code"],
        "token_not_valid"
    );
}

#[tokio::test]
async fn form_bodies_work_as_json_does() {
    let app = spawn_app().await;
    let created = form(
        &app,
        "/auth/register",
        &[
            ("username", "bob"),
            ("password", PASSWORD),
            ("email", "bob@example.com"),
        ],
    )
    .await;
    assert_pair(&expect(created, StatusCode::CREATED).await);
    let token = form(
        &app,
        "/auth/token",
        &[("username", "bob"), ("password", PASSWORD)],
    )
    .await;
    let pair = expect(token, StatusCode::OK).await;
    let refreshed = form(
        &app,
        "/auth/token/refresh",
        &[("refresh", pair["refresh"].as_str().unwrap())],
    )
    .await;
    let refreshed = expect(refreshed, StatusCode::OK).await;
    let verified = form(
        &app,
        "/auth/token/verify",
        &[("token", refreshed["access"].as_str().unwrap())],
    )
    .await;
    assert_eq!(expect(verified, StatusCode::OK).await, json!({}));
    let missing = form(&app, "/auth/token", &[("username", "bob")]).await;
    assert_eq!(
        expect(missing, StatusCode::BAD_REQUEST).await,
        json!({"password": ["This field is required."]})
    );
}

#[tokio::test]
async fn malformed_bodies_answer_in_drf_shape_and_change_nothing() {
    let app = spawn_app().await;
    for path in [
        "/auth/register",
        "/auth/token",
        "/auth/token/refresh",
        "/auth/token/verify",
    ] {
        for (content_type, body) in [
            ("application/json", "{not json"),
            ("application/json", "[1, 2]"),
            ("application/json", "\"text\""),
            ("text/plain", "hello"),
            ("application/json", ""),
            (
                "application/json",
                r#"{"username": {"a": 1}, "password": [1], "refresh": {}, "token": []}"#,
            ),
            (
                "application/json",
                r#"{"username": null, "password": null, "refresh": null, "token": null}"#,
            ),
        ] {
            let answer = app
                .client
                .post(app.url(path))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = answer.status();
            let text = answer.text().await.unwrap();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {text}");
            let value: Value = serde_json::from_str(&text).expect("a JSON answer");
            assert!(
                value.get("msg").is_none(),
                "another dialect's shape: {text}"
            );
            let drf = value.get("detail").is_some()
                || value
                    .as_object()
                    .unwrap()
                    .values()
                    .all(|errors| errors.as_array().is_some_and(|list| list[0].is_string()));
            assert!(drf, "{path} {body}: {text}");
        }
    }
    // Nothing was created.
    let token = post(
        &app,
        "/auth/token",
        json!({"username": "1", "password": PASSWORD}),
    )
    .await;
    assert_eq!(token.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn invalid_registrations_answer_per_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"username": "ann b", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "a".repeat(151), "password": PASSWORD}),
            "username",
        ),
        (json!({"username": "ann", "password": "abc"}), "password"),
        (
            json!({"username": "ann", "password": "password"}),
            "password",
        ),
        (
            json!({"username": "ann", "password": PASSWORD, "email": "nope"}),
            "email",
        ),
    ];
    for (body, field) in cases {
        let answer = post(&app, "/auth/register", body.clone()).await;
        let errors = expect(answer, StatusCode::BAD_REQUEST).await;
        assert!(errors[field][0].is_string(), "{body}: {errors}");
    }
    // A username that is another account's email is taken, and the other
    // way round: a sign-in name finds one account.
    app.register("carol@example.com").await;
    let taken = post(
        &app,
        "/auth/register",
        json!({"username": "Carol@Example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    register(&app, "dave@example.org").await;
    let native = app
        .post(
            "/api/v1/auth/register/email",
            &json!({"email": "dave@example.org", "password": PASSWORD, "password2": PASSWORD}),
        )
        .await;
    assert_eq!(native.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn one_account_store_for_seed_001_and_the_native_dialect() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let admin_token = admin["token"].as_str().unwrap().to_owned();

    // A seed-001 account logs in natively with its username, and its
    // access token works at the native routes.
    let erin = register(&app, "erin").await;
    let me = app.me(erin["access"].as_str().unwrap()).await;
    let me = expect(me, StatusCode::OK).await;
    assert_eq!(me["username"], "erin");
    let erin_id = me["id"].as_i64().unwrap();
    let native = app.login_with("erin", PASSWORD).await;
    let native = expect(native, StatusCode::OK).await;
    assert_eq!(native["userId"], erin_id);

    // A native account logs in through seed 001 with its email; getuser
    // shows the email where it has no username.
    let frank = app.register("frank@example.com").await;
    let token = post(
        &app,
        "/auth/token",
        json!({"username": "frank@example.com", "password": PASSWORD}),
    )
    .await;
    let pair = expect(token, StatusCode::OK).await;
    let user = get_user(&app, pair["access"].as_str().unwrap()).await;
    assert_eq!(
        expect(user, StatusCode::OK).await["username"],
        "frank@example.com"
    );

    // Logging out natively ends the seed-001 session too.
    let native_frank = frank["token"].as_str().unwrap();
    let logout_all = app.post_auth("/api/v1/auth/logout/all", native_frank).await;
    assert_eq!(logout_all.status(), StatusCode::NO_CONTENT);
    let refresh = post(
        &app,
        "/auth/token/refresh",
        json!({"refresh": pair["refresh"]}),
    )
    .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    let verify = post(&app, "/auth/token/verify", json!({"token": pair["access"]})).await;
    assert_eq!(verify.status(), StatusCode::UNAUTHORIZED);

    // Disabled and banned accounts answer seed 001's 401.
    let erin_native = native["token"].as_str().unwrap();
    let disabled = app
        .post_json_auth(
            "/api/v1/auth/disable",
            erin_native,
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    let login = post(
        &app,
        "/auth/token",
        json!({"username": "erin", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        expect(login, StatusCode::UNAUTHORIZED).await,
        json!({"detail": "User account is disabled.", "code": "user_inactive"})
    );
    let frank_id = frank["userId"].as_i64().unwrap();
    let banned = app
        .patch_auth(
            &format!("/api/v1/admin/users/{frank_id}"),
            &admin_token,
            &json!({"status": "banned"}),
        )
        .await;
    assert_eq!(banned.status(), StatusCode::OK);
    let login = post(
        &app,
        "/auth/token",
        json!({"username": "frank@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        expect(login, StatusCode::UNAUTHORIZED).await,
        json!({"detail": "User has been banned.", "code": "user_banned"})
    );
}

#[tokio::test]
async fn over_the_limit_answers_a_drf_429() {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.limits.login = auth_service::throttle::Limit {
        count: 2,
        window: Duration::from_secs(600),
    };
    let app = spawn_with(settings, db).await;
    let body = json!({"username": "nobody", "password": PASSWORD});
    for _ in 0..2 {
        assert_eq!(
            post(&app, "/auth/token", body.clone()).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = post(&app, "/auth/token", body).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.headers().contains_key("ratelimit-policy"));
    let answer: Value = limited.json().await.unwrap();
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .starts_with("Request was throttled. Expected available in"),
        "{answer}"
    );
}
