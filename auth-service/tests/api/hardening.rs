//! Answers a browser can trust: security headers on every answer (no
//! caching of tokens, no sniffing, no framing, a content security policy
//! that still lets the docs run, HSTS behind TLS), and CORS that is open
//! only in the embedded development mode or to the listed frontends.

use reqwest::StatusCode;
use serde_json::json;
use shared::http::CorsPolicy;

use crate::helpers::{PASSWORD, TestDatabase, settings_for, spawn_app, spawn_with};

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let body = json!({"email": "ann@example.com", "password": PASSWORD, "password2": PASSWORD});
    let token_answer = app.post("/api/v1/register/email", &body).await;
    let failed = app
        .post(
            "/api/v1/login/email",
            &json!({"email": "x@y.zz", "password": "nope-nope"}),
        )
        .await;
    let missing = app.get("/no/such/route").await;
    for (what, response) in [
        ("token answer", &token_answer),
        ("error", &failed),
        ("404", &missing),
    ] {
        assert_eq!(
            header(response, "cache-control"),
            Some("no-store"),
            "{what}"
        );
        assert_eq!(
            header(response, "x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            header(response, "referrer-policy"),
            Some("no-referrer"),
            "{what}"
        );
        assert_eq!(header(response, "x-frame-options"), Some("DENY"), "{what}");
        let csp = header(response, "content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{what}: {csp}"
        );
        assert_eq!(
            header(response, "strict-transport-security"),
            None,
            "{what}: no HSTS over plain HTTP"
        );
    }
    // The docs page runs its inline script and style under its own policy.
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), StatusCode::OK);
    let csp = header(&docs, "content-security-policy").unwrap().to_owned();
    assert!(
        csp.contains("script-src 'unsafe-inline'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert!(docs.text().await.unwrap().contains("SwaggerUIBundle"));
}

#[tokio::test]
async fn hsts_is_sent_when_the_service_is_served_over_tls() {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.public_url = Some("https://auth.example.com".into());
    let app = spawn_with(settings, db).await;
    let answer = app.get("/healthz").await;
    assert_eq!(
        header(&answer, "strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
}

async fn preflight(app: &crate::helpers::TestApp, origin: &str) -> Option<String> {
    let answer = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/login/email"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    header(&answer, "access-control-allow-origin").map(str::to_owned)
}

#[tokio::test]
async fn cors_allows_only_the_configured_frontends() {
    // A database URL is configured and no origins listed: nobody.
    let app = spawn_app().await;
    assert_eq!(preflight(&app, "https://evil.example").await, None);

    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.cors = CorsPolicy::Only(vec![
        "https://app.example".into(),
        "https://admin.example".into(),
    ]);
    let app = spawn_with(settings, db).await;
    for frontend in ["https://app.example", "https://admin.example"] {
        assert_eq!(preflight(&app, frontend).await.as_deref(), Some(frontend));
    }
    assert_eq!(preflight(&app, "https://evil.example").await, None);
    let simple = app
        .client
        .get(app.url("/healthz"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&simple, "access-control-allow-origin"), None);

    // The embedded development default (no database URL set) is open.
    let open = CorsPolicy::from_settings(vec![], true);
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.cors = open;
    let app = spawn_with(settings, db).await;
    assert!(preflight(&app, "http://localhost:5173").await.is_some());
}
