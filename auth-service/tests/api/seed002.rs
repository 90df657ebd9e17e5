//! Seed 002 (the Laravel dialect): the envelope on every answer, its
//! validation sentences, the reset flow by mail, and the same accounts and
//! sessions as the other dialects.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, SmtpSink, TestApp, TestDatabase, expect, link_token, settings_for, spawn_app,
    spawn_with, with_smtp,
};

const NO_MATCH: &str = "These credentials do not match our records.";

async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.post(path, &body).await
}

/// The envelope's status and code agree; its four fields are there.
async fn envelope(answer: reqwest::Response, status: StatusCode) -> Value {
    let body = expect(answer, status).await;
    assert_eq!(body["code"], status.as_u16(), "{body}");
    for field in ["data", "message", "errors", "code"] {
        assert!(body.get(field).is_some(), "{field} missing: {body}");
    }
    assert!(body.get("msg").is_none(), "another dialect's shape: {body}");
    body
}

async fn register(app: &TestApp, email: &str) -> Value {
    let answer = post(
        app,
        "/api/v1/register",
        json!({"name": "Gail Doe", "email": email, "password": PASSWORD, "password_confirmation": PASSWORD}),
    )
    .await;
    envelope(answer, StatusCode::OK).await
}

fn assert_tokens(body: &Value) {
    let data = &body["data"];
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 900);
    assert_eq!(data["access_token"].as_str().unwrap().split('.').count(), 3);
    assert!(data["refresh_token"].is_string());
    assert_eq!(body["errors"], json!({}));
    assert_eq!(body["message"], "");
}

#[tokio::test]
async fn the_documented_requests_get_the_documented_answers() {
    let app = spawn_app().await;
    let gail = register(&app, "gail@example.com").await;
    assert_tokens(&gail);

    // Validation: 422, every field's sentence.
    let empty = post(&app, "/api/v1/register", json!({})).await;
    let empty = envelope(empty, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(empty["data"], Value::Null);
    assert_eq!(empty["errors"]["name"][0], "The name field is required.");
    assert_eq!(empty["errors"]["email"][0], "The email field is required.");
    assert_eq!(
        empty["errors"]["password"][0],
        "The password field is required."
    );
    let cases = [
        (
            json!({"email": "nope"}),
            "email",
            "The email must be a valid email address.",
        ),
        (
            json!({"email": "gail@example.com"}),
            "email",
            "The email has already been taken.",
        ),
        (
            json!({"password_confirmation": "something else entirely"}),
            "password",
            "The password confirmation does not match.",
        ),
        (
            json!({"password": "abc", "password_confirmation": "abc"}),
            "password",
            "The password must be at least 6 characters.",
        ),
    ];
    for (change, field, sentence) in cases {
        let mut body = json!({"name": "Hal", "email": "hal@example.com", "password": PASSWORD, "password_confirmation": PASSWORD});
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let answer = post(&app, "/api/v1/register", body).await;
        let answer = envelope(answer, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(answer["errors"][field][0], sentence, "{answer}");
    }

    // Login.
    let login = post(
        &app,
        "/api/v1/login",
        json!({"email": "GAIL@example.com", "password": PASSWORD}),
    )
    .await;
    let login = envelope(login, StatusCode::OK).await;
    assert_tokens(&login);
    let wrong = post(
        &app,
        "/api/v1/login",
        json!({"email": "gail@example.com", "password": "not her password"}),
    )
    .await;
    let wrong = envelope(wrong, StatusCode::UNAUTHORIZED).await;
    assert_eq!(wrong["message"], NO_MATCH);
    assert_eq!(wrong["errors"], json!({}));
    let invalid = post(&app, "/api/v1/login", json!({"email": "nope"})).await;
    let invalid = envelope(invalid, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        invalid["errors"]["password"][0],
        "The password field is required."
    );

    // Refresh, then logout with the refresh token: both sessions end.
    let refreshed = post(
        &app,
        "/api/v1/token/refresh",
        json!({"refresh_token": login["data"]["refresh_token"]}),
    )
    .await;
    let refreshed = envelope(refreshed, StatusCode::OK).await;
    assert_tokens(&refreshed);
    let forged = post(
        &app,
        "/api/v1/token/refresh",
        json!({"refresh_token": "forged"}),
    )
    .await;
    assert_eq!(
        envelope(forged, StatusCode::UNAUTHORIZED).await["message"],
        NO_MATCH
    );
    let access = refreshed["data"]["access_token"].as_str().unwrap();
    let logout = app
        .post_json_auth(
            "/api/v1/logout",
            access,
            &json!({"token": gail["data"]["refresh_token"]}),
        )
        .await;
    let logout = envelope(logout, StatusCode::OK).await;
    assert_eq!(logout["message"], "Logout success.");
    assert_eq!(logout["data"], Value::Null);
    assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    for refresh in [
        &refreshed["data"]["refresh_token"],
        &gail["data"]["refresh_token"],
    ] {
        let again = post(
            &app,
            "/api/v1/token/refresh",
            json!({"refresh_token": refresh}),
        )
        .await;
        envelope(again, StatusCode::UNAUTHORIZED).await;
    }
    let anonymous = post(&app, "/api/v1/logout", json!({})).await;
    assert_eq!(
        envelope(anonymous, StatusCode::UNAUTHORIZED).await["message"],
        "Unauthenticated."
    );
}

#[tokio::test]
async fn a_password_is_reset_by_mail() {
    let sink = SmtpSink::start().await;
    let db = TestDatabase::fresh().await;
    let app = spawn_with(with_smtp(settings_for(&db), sink.port()), db).await;
    register(&app, "ida@example.com").await;
    for address in ["ida@example.com", "nobody@example.com"] {
        let sent = post(&app, "/api/v1/password/email", json!({"email": address})).await;
        let sent = envelope(sent, StatusCode::OK).await;
        assert_eq!(sent["data"], true);
        assert_eq!(
            sent["message"],
            "We have e-mailed your password reset link!"
        );
    }
    let token = link_token(&sink.wait_for(1, Duration::from_secs(10)).await[0]);
    let new_password = "a brand new passphrase";
    let reset = |token: String| {
        let app = &app;
        async move {
            post(
                app,
                "/api/v1/password/reset",
                json!({"token": token, "email": "ida@example.com", "password": new_password, "password_confirmation": new_password}),
            )
            .await
        }
    };
    let done = envelope(reset(token.clone()).await, StatusCode::OK).await;
    assert_eq!(done["message"], "Your password has been reset!");
    assert_eq!(done["data"], true);
    let again = envelope(reset(token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        again["errors"]["token"][0],
        "This password reset token is invalid."
    );
    let login = post(
        &app,
        "/api/v1/login",
        json!({"email": "ida@example.com", "password": new_password}),
    )
    .await;
    envelope(login, StatusCode::OK).await;
}

#[tokio::test]
async fn account_states_and_limits_answer_in_the_envelope() {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.limits.login_failure = auth_service::throttle::Limit {
        count: 2,
        window: Duration::from_secs(600),
    };
    let app = spawn_with(settings, db).await;
    let admin = app.register("admin@example.com").await;
    let jack = register(&app, "jack@example.com").await;
    let jack_token = jack["data"]["access_token"].as_str().unwrap();
    let jack_id = expect(app.me(jack_token).await, StatusCode::OK).await["id"]
        .as_i64()
        .unwrap();

    // Disabled: 401; banned: 403.
    let disabled = app
        .post_json_auth(
            "/api/v1/auth/disable",
            jack_token,
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    let body = json!({"email": "jack@example.com", "password": PASSWORD});
    let login = post(&app, "/api/v1/login", body.clone()).await;
    assert_eq!(
        envelope(login, StatusCode::UNAUTHORIZED).await["message"],
        "This account is disabled."
    );
    let banned = app
        .patch_auth(
            &format!("/api/v1/admin/users/{jack_id}"),
            admin["token"].as_str().unwrap(),
            &json!({"status": "banned"}),
        )
        .await;
    assert_eq!(banned.status(), StatusCode::OK);
    let login = post(&app, "/api/v1/login", body).await;
    assert_eq!(
        envelope(login, StatusCode::FORBIDDEN).await["message"],
        "This account is suspended."
    );

    // Wrong passwords past the limit: 429 with Retry-After.
    let wrong = json!({"email": "admin@example.com", "password": "not the password"});
    for _ in 0..2 {
        envelope(
            post(&app, "/api/v1/login", wrong.clone()).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let limited = post(&app, "/api/v1/login", wrong).await;
    assert!(limited.headers().contains_key("retry-after"));
    let limited = envelope(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        limited["message"]
            .as_str()
            .unwrap()
            .starts_with("Too many attempts.")
    );
}

#[tokio::test]
async fn malformed_bodies_answer_in_the_envelope_and_change_nothing() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/login",
        "/api/v1/register",
        "/api/v1/token/refresh",
        "/api/v1/password/email",
        "/api/v1/password/reset",
    ] {
        for (content_type, body) in [
            ("application/json", "{not json"),
            ("application/json", "[]"),
            ("text/plain", "hello"),
            ("application/json", ""),
            (
                "application/json",
                r#"{"email": {"a": 1}, "password": [], "name": 5, "refresh_token": {}, "token": []}"#,
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
            assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
                "{path} {body}: {status}"
            );
            envelope(answer, status).await;
        }
    }
    let login = post(
        &app,
        "/api/v1/login",
        json!({"email": "5@example.com", "password": PASSWORD}),
    )
    .await;
    envelope(login, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn seed_002_accounts_sign_in_through_every_dialect() {
    let app = spawn_app().await;
    let kim = register(&app, "kim@example.com").await;
    let access = kim["data"]["access_token"].as_str().unwrap();
    let me = expect(app.me(access).await, StatusCode::OK).await;
    assert_eq!(me["firstName"], "Gail Doe");
    let native = app.login_with("kim@example.com", PASSWORD).await;
    assert_eq!(native.status(), StatusCode::OK);
    let seed001 = post(
        &app,
        "/auth/token",
        json!({"username": "kim@example.com", "password": PASSWORD}),
    )
    .await;
    let pair = expect(seed001, StatusCode::OK).await;
    // A seed-001 refresh token works at seed 002's refresh, and the other way.
    let swapped = post(
        &app,
        "/api/v1/token/refresh",
        json!({"refresh_token": pair["refresh"]}),
    )
    .await;
    let swapped = envelope(swapped, StatusCode::OK).await;
    let back = post(
        &app,
        "/auth/token/refresh",
        json!({"refresh": swapped["data"]["refresh_token"]}),
    )
    .await;
    assert_eq!(back.status(), StatusCode::OK);
}
