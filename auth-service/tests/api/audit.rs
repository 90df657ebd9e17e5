//! The audit log: every security event appears exactly once after its
//! action, with its actor, subject, client address, user agent and request
//! id; admins read and filter it, users read their own; no secret reaches a
//! row or a log line; the table refuses changes.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    LogCapture, PASSWORD, SmtpSink, TestApp, TestDatabase, expect, link_token, settings_for,
    spawn_with, with_smtp,
};

const MAIL_WAIT: Duration = Duration::from_secs(10);
const NEW_PASSWORD: &str = "another long passphrase";
const RESET_PASSWORD: &str = "a reset passphrase of mine";
const AGENT: &str = "audit-test/1.0";

fn token(answer: &Value) -> String {
    answer["token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

fn refresh_token(answer: &Value) -> String {
    answer["refreshToken"]
        .as_str()
        .expect("a refresh token")
        .to_owned()
}

/// A request with this test's user agent and a request id of its own.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
    request_id: &str,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("user-agent", AGENT)
        .header("x-request-id", request_id);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

async fn post(app: &TestApp, path: &str, bearer: Option<&str>, body: Value) -> reqwest::Response {
    call(
        app,
        reqwest::Method::POST,
        path,
        bearer,
        Some(body),
        "req-1",
    )
    .await
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> Value {
    let answer = post(
        app,
        "/api/v1/auth/login/email",
        None,
        json!({"email": email, "password": password}),
    )
    .await;
    expect(answer, StatusCode::OK).await
}

/// Every event the admin can read with `query`, oldest first.
async fn events(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let answer = app
        .get_auth(&format!("/api/v1/admin/audit?limit=100{query}"), admin)
        .await;
    let page = expect(answer, StatusCode::OK).await;
    let mut events = page["events"].as_array().expect("events").clone();
    assert_eq!(page["total"].as_u64(), Some(events.len() as u64));
    events.reverse();
    events
}

/// An event as (type, actor, subject).
fn shape(event: &Value) -> (String, Option<i64>, Option<i64>) {
    (
        event["type"].as_str().expect("a type").to_owned(),
        event["actorId"].as_i64(),
        event["subjectId"].as_i64(),
    )
}

fn expected(
    kind: &str,
    actor: Option<i64>,
    subject: Option<i64>,
) -> (String, Option<i64>, Option<i64>) {
    (kind.to_owned(), actor, subject)
}

#[tokio::test]
async fn every_security_event_is_recorded_once_with_who_did_it_to_whom() {
    let logs = LogCapture::install();
    let sink = SmtpSink::start().await;
    let db = TestDatabase::fresh().await;
    let mut settings = with_smtp(settings_for(&db), sink.port());
    settings.limits.recovery = auth_service::throttle::Limit {
        count: 2,
        window: Duration::from_secs(600),
    };
    let app = spawn_with(settings, db.clone()).await;
    let mut secrets = vec![
        PASSWORD.to_owned(),
        NEW_PASSWORD.to_owned(),
        RESET_PASSWORD.to_owned(),
    ];

    // Registration (the first account is the admin).
    let register = |email: &'static str| {
        let app = &app;
        async move {
            let body = json!({"email": email, "password": PASSWORD, "password2": PASSWORD});
            let answer = post(app, "/api/v1/auth/register/email", None, body).await;
            expect(answer, StatusCode::CREATED).await
        }
    };
    let admin = register("admin@example.com").await;
    let admin_id = admin["userId"].as_i64().unwrap();
    let ann = register("ann@example.com").await;
    let ann_id = ann["userId"].as_i64().unwrap();
    let (admin, ann_first) = (token(&admin), ann);
    secrets.push(admin.clone());
    secrets.push(token(&ann_first));
    secrets.push(refresh_token(&ann_first));

    // Logins: one that works, a wrong password, an unknown address.
    let ann_login = log_in(&app, "ann@example.com", PASSWORD).await;
    secrets.push(refresh_token(&ann_login));
    let wrong = post(
        &app,
        "/api/v1/auth/login/email",
        None,
        json!({"email": "ann@example.com", "password": "not her password"}),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let unknown = post(
        &app,
        "/api/v1/auth/login/email",
        None,
        json!({"email": "nobody@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    // Refresh, then the rotated token again from another client: reuse.
    let rotated = refresh_token(&ann_login);
    let refreshed = post(
        &app,
        "/api/v1/auth/token/refresh",
        None,
        json!({"refreshToken": rotated}),
    )
    .await;
    let refreshed = expect(refreshed, StatusCode::OK).await;
    secrets.push(refresh_token(&refreshed));
    let replay = app
        .client
        .post(app.url("/api/v1/auth/token/refresh"))
        .header("user-agent", "somebody-else/2.0")
        .json(&json!({"refreshToken": rotated}))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);

    // Logout, logout everywhere, one session ended by its user.
    let session = log_in(&app, "ann@example.com", PASSWORD).await;
    let logout = post(
        &app,
        "/api/v1/auth/logout",
        Some(&token(&session)),
        json!({}),
    )
    .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let session = log_in(&app, "ann@example.com", PASSWORD).await;
    let everywhere = post(
        &app,
        "/api/v1/auth/logout/all",
        Some(&token(&session)),
        json!({}),
    )
    .await;
    assert_eq!(everywhere.status(), StatusCode::NO_CONTENT);
    let kept = log_in(&app, "ann@example.com", PASSWORD).await;
    let other = log_in(&app, "ann@example.com", PASSWORD).await;
    let other_sid = crate::helpers::claims_of(&token(&other))["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let ended = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/v1/auth/sessions/{other_sid}"),
        Some(&token(&kept)),
        None,
        "req-1",
    )
    .await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);

    // Password change, then a reset by mail.
    let changed = post(
        &app,
        "/api/v1/auth/password",
        Some(&token(&kept)),
        json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "newPassword2": NEW_PASSWORD}),
    )
    .await;
    let changed = expect(changed, StatusCode::OK).await;
    secrets.push(token(&changed));
    let forgot = post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"email": "ann@example.com"}),
    )
    .await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);
    let link = link_token(&sink.wait_for(1, MAIL_WAIT).await[0]);
    secrets.push(link.clone());
    let reset = post(
        &app,
        "/api/v1/auth/reset-password",
        None,
        json!({"token": link, "password": RESET_PASSWORD, "password2": RESET_PASSWORD}),
    )
    .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);

    // Disable, then reactivate.
    let session = log_in(&app, "ann@example.com", RESET_PASSWORD).await;
    let disabled = post(
        &app,
        "/api/v1/auth/disable",
        Some(&token(&session)),
        json!({"password": RESET_PASSWORD}),
    )
    .await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    let back = post(
        &app,
        "/api/v1/reactivate/email",
        None,
        json!({"email": "ann@example.com", "password": RESET_PASSWORD}),
    )
    .await;
    assert_eq!(back.status(), StatusCode::OK);

    // An admin bans, unbans and promotes her, and rotates the signing key.
    let user = format!("/api/v1/admin/users/{ann_id}");
    let patch = |body: Value| {
        let (app, admin, user) = (&app, &admin, &user);
        async move {
            let answer = call(
                app,
                reqwest::Method::PATCH,
                user,
                Some(admin),
                Some(body),
                "req-1",
            )
            .await;
            expect(answer, StatusCode::OK).await;
        }
    };
    patch(json!({"status": "banned", "reason": "spam"})).await;
    patch(json!({"status": "active"})).await;
    patch(json!({"role": "admin"})).await;
    let rotated_key = post(
        &app,
        "/api/v1/admin/signing-keys/rotate",
        Some(&admin),
        json!({}),
    )
    .await;
    assert_eq!(rotated_key.status(), StatusCode::OK);

    // Recovery mails past their limit: refused several times, audited once.
    for _ in 0..4 {
        post(
            &app,
            "/api/v1/auth/forgot-password",
            None,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    }

    let all = events(&app, &admin, "").await;
    let (admin, ann) = (Some(admin_id), Some(ann_id));
    assert_eq!(
        all.iter().map(shape).collect::<Vec<_>>(),
        vec![
            expected("registered", admin, admin),
            expected("registered", ann, ann),
            expected("login_succeeded", ann, ann),
            expected("login_failed", None, ann),
            expected("login_failed", None, None),
            expected("refresh_token_reused", None, ann),
            expected("login_succeeded", ann, ann),
            expected("logout", ann, ann),
            expected("login_succeeded", ann, ann),
            expected("logout_all", ann, ann),
            expected("login_succeeded", ann, ann),
            expected("login_succeeded", ann, ann),
            expected("session_ended", ann, ann),
            expected("password_changed", ann, ann),
            expected("password_reset_requested", None, ann),
            expected("password_reset", ann, ann),
            expected("login_succeeded", ann, ann),
            expected("account_disabled", ann, ann),
            expected("account_reactivated", ann, ann),
            expected("login_succeeded", ann, ann),
            expected("account_banned", admin, ann),
            expected("account_unbanned", admin, ann),
            expected("role_changed", admin, ann),
            expected("signing_key_rotated", admin, None),
            expected("rate_limited", None, None),
        ]
    );

    // Details and origins.
    let detail = |kind: &str| -> Vec<String> {
        all.iter()
            .filter(|event| event["type"] == kind)
            .map(|event| event["detail"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        detail("login_failed"),
        ["wrong_password", "unknown_account"]
    );
    assert_eq!(detail("account_banned"), ["until lifted: spam"]);
    assert_eq!(detail("role_changed"), ["user -> admin"]);
    assert_eq!(detail("rate_limited"), ["recovery"]);
    for event in &all {
        assert_eq!(event["ipAddress"], "127.0.0.1", "{event}");
        if event["type"] != "refresh_token_reused" {
            assert_eq!(event["userAgent"], AGENT, "{event}");
            assert_eq!(event["requestId"], "req-1", "{event}");
        } else {
            assert_eq!(event["userAgent"], "somebody-else/2.0");
            assert!(event["requestId"].is_string(), "a request id is made up");
        }
    }

    // No secret in any row or any log line.
    let rows = serde_json::to_string(&all).unwrap();
    let logged = logs.text();
    for secret in &secrets {
        assert!(!rows.contains(secret.as_str()), "a secret in the audit log");
        assert!(!logged.contains(secret.as_str()), "a secret in a log line");
    }
    // Each event is also one structured log line.
    let lines = logged
        .lines()
        .filter(|line| line.contains("\"audit event\"") && line.contains("account_banned"))
        .filter(|line| line.contains(&format!("\"subject\":{ann_id}")))
        .count();
    assert_eq!(lines, 1);

    // Append-only: the database refuses to change an event.
    let tampered = sea_orm::Database::connect(&db.url).await.unwrap();
    use sea_orm::ConnectionTrait;
    let update = tampered
        .execute_unprepared("UPDATE audit_events SET kind = 'nothing_happened'")
        .await;
    assert!(update.is_err(), "an audit event was changed");
}

#[tokio::test]
async fn admins_filter_the_log_and_users_read_only_their_own() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let admin_token = token(&admin);
    let bob = app.register("bob@example.com").await;
    let bob_id = bob["userId"].as_i64().unwrap();
    let wrong = app.login_with("bob@example.com", "not his password").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    app.login("bob@example.com").await;

    let failed = events(&app, &admin_token, "&type=login_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["subjectId"], bob_id);
    let bobs = events(&app, &admin_token, &format!("&userId={bob_id}")).await;
    let kinds: Vec<_> = bobs.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["registered", "login_failed", "login_succeeded"]);
    let later = events(&app, &admin_token, "&since=2999-01-01T00:00:00Z").await;
    assert!(later.is_empty());
    let earlier = events(&app, &admin_token, "&until=2000-01-01T00:00:00Z").await;
    assert!(earlier.is_empty());

    // Paging: newest first.
    let page = app
        .get_auth("/api/v1/admin/audit?limit=1&offset=1", &admin_token)
        .await;
    let page = expect(page, StatusCode::OK).await;
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    assert_eq!(page["events"][0]["type"], "login_failed");
    assert_eq!(page["total"], 4);

    // Bad filters are 400; non-admins are 403.
    for query in [
        "type=made_up",
        "since=yesterday",
        "limit=0",
        "limit=101",
        "userId=x",
    ] {
        let answer = app
            .get_auth(&format!("/api/v1/admin/audit?{query}"), &admin_token)
            .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    let as_bob = app.get_auth("/api/v1/admin/audit", &token(&bob)).await;
    let as_bob = expect(as_bob, StatusCode::FORBIDDEN).await;
    assert_eq!(as_bob["code"], "admin_required");
    assert_eq!(
        app.get("/api/v1/admin/audit").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Bob's own log: his events only, newest first.
    let own = app.get_auth("/api/v1/auth/audit", &token(&bob)).await;
    let own = expect(own, StatusCode::OK).await;
    let kinds: Vec<_> = own["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["login_succeeded", "login_failed", "registered"]);
    assert!(
        own["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["subjectId"] == bob_id)
    );
}
