//! `GET /metrics`: the Prometheus text format, parsed, before and after
//! requests this test makes (other tests share the process's recorder, so
//! increases are "at least").

use reqwest::StatusCode;
use serde_json::json;
use shared::testing::Metrics;

use crate::helpers::{TestDatabase, settings_for, spawn_app, spawn_with};

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_sign_ins_by_outcome() {
    let app = spawn_app().await;
    let before = Metrics::scrape(&app.client, &app.address).await;

    let admin = app.register("metrics-admin@example.com").await;
    let admin_token = admin["token"].as_str().unwrap().to_owned();
    let user = app.register("metrics-user@example.com").await;
    let user_id = user["userId"].as_i64().unwrap();
    let login = app.login("metrics-user@example.com").await;
    for _ in 0..2 {
        let wrong = app
            .login_with("metrics-user@example.com", "not the password at all")
            .await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    // One refresh, a refused one, and a rotated token coming back from
    // another client: reuse.
    let first = login["refreshToken"].as_str().unwrap();
    assert_eq!(app.refresh(first).await.status(), StatusCode::OK);
    assert_eq!(
        app.refresh("no-such-refresh-token").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let reused = app
        .client
        .post(app.url("/api/v1/auth/token/refresh"))
        .header("User-Agent", "someone else")
        .json(&json!({"refreshToken": first}))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    // An admin route with an id, three times.
    for _ in 0..3 {
        let answer = app
            .get_auth(&format!("/api/v1/admin/users/{user_id}"), &admin_token)
            .await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let logout = app.post_auth("/api/v1/auth/logout", &admin_token).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let unknown = app.get(&format!("/no/such/route/{user_id}")).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let after = Metrics::scrape(&app.client, &app.address).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    let logins = shared::metrics::LOGINS;
    assert!(moved(logins, &[("outcome", "success")]) >= 1.0);
    assert!(moved(logins, &[("outcome", "bad_credentials")]) >= 2.0);
    let refreshes = shared::metrics::REFRESHES;
    assert!(moved(refreshes, &[("outcome", "ok")]) >= 1.0);
    assert!(moved(refreshes, &[("outcome", "refused")]) >= 1.0);
    assert!(moved(refreshes, &[("outcome", "reuse_detected")]) >= 1.0);

    let requests = shared::metrics::HTTP_REQUESTS;
    let admin_user = [
        ("method", "GET"),
        ("route", "/api/v1/admin/users/:id"),
        ("status", "200"),
    ];
    assert!(moved(requests, &admin_user) >= 3.0);
    assert!(
        after.has_histogram(shared::metrics::HTTP_DURATION, &admin_user),
        "latency of the admin route"
    );
    let failed_logins = [
        ("method", "POST"),
        ("route", "/api/v1/login/email"),
        ("status", "400"),
    ];
    assert!(moved(requests, &failed_logins) >= 2.0);
    assert!(moved(requests, &[("route", "unmatched"), ("status", "404")]) >= 1.0);
    let routes = after.label_values(requests, "route");
    assert!(
        routes.iter().all(|route| route
            .split('/')
            .all(|segment| segment.parse::<i64>().is_err())),
        "no raw path with an id is a label: {routes:?}"
    );

    // The logout's facts (its token and session) went on the feed.
    let published = shared::metrics::REVOCATIONS_PUBLISHED;
    assert!(moved(published, &[("kind", "session")]) >= 1.0);
    assert!(moved(published, &[("kind", "token")]) >= 1.0);
    assert_eq!(
        after.value(shared::metrics::REVOCATION_SET_CURRENT, &[]),
        1.0
    );
    assert!(after.value(shared::metrics::DB_POOL_CONNECTIONS, &[]) >= 1.0);
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.metrics = false;
    let app = spawn_with(settings, db).await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}
