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

/// A flood of logins whose clients hang up at once: the bounded hashing
/// queue refuses what does not fit, abandoned jobs are skipped, token
/// checks never wait for hashing, and a real login goes through soon after.
#[tokio::test]
async fn a_flood_of_abandoned_logins_does_not_starve_real_ones() {
    use tokio::io::AsyncWriteExt;
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.passwords.max_concurrent = 2;
    let app = spawn_with(settings, db).await;
    let ann = app.register("ann@example.com").await;
    let token = ann["token"].as_str().unwrap().to_owned();
    let address = app.address.trim_start_matches("http://").to_owned();

    let body = json!({"email": "ann@example.com", "password": "guessing-1234"}).to_string();
    let request = format!(
        "POST /api/v1/login/email HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let started = std::time::Instant::now();
    for _ in 0..1000 {
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        drop(socket);
    }
    let flood_time = started.elapsed();

    // Token verification never queues behind hashing.
    let mut slowest_me = std::time::Duration::ZERO;
    for _ in 0..20 {
        let at = std::time::Instant::now();
        assert_eq!(app.me(&token).await.status(), StatusCode::OK);
        slowest_me = slowest_me.max(at.elapsed());
    }
    assert!(
        slowest_me < std::time::Duration::from_millis(500),
        "me took {slowest_me:?} during the flood"
    );

    // A real login completes within 3 s (baseline: tens of milliseconds;
    // without the bound it waited for every flooded hash, 12 s and more).
    let at = std::time::Instant::now();
    let deadline = at + std::time::Duration::from_secs(3);
    loop {
        let answer = app.login_with("ann@example.com", PASSWORD).await;
        if answer.status() == StatusCode::OK {
            break;
        }
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&answer, "retry-after"), Some("1"));
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "busy");
        assert!(std::time::Instant::now() < deadline, "no login within 3 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    eprintln!(
        "flood sent in {flood_time:?}; real login after {:?}",
        at.elapsed()
    );
}

/// Whether the server closed `socket` within `limit` (EOF or reset).
async fn closed_within(socket: &mut tokio::net::TcpStream, limit: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // An error answer before closing is fine: read on.
            Ok(Ok(_)) => continue,
        }
    }
}

/// Slow clients: unfinished headers, a body that stops half-way and
/// silent connections are closed within their timeouts, and the service
/// answers others meanwhile, with a thousand of them held open.
#[tokio::test]
async fn half_open_connections_are_closed_and_do_not_block_others() {
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.connections.header_timeout = Duration::from_secs(2);
    settings.connections.body_timeout = Duration::from_secs(2);
    settings.connections.idle_timeout = Duration::from_secs(3);
    let app = spawn_with(settings, db).await;
    let address = app.address.trim_start_matches("http://").to_owned();

    let partial_headers = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nX-Slow: ");
    let partial_body = format!(
        "POST /api/v1/login/email HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"email\": "
    );
    let mut held = Vec::new();
    for n in 0..1000 {
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        match n % 3 {
            0 => socket.write_all(partial_headers.as_bytes()).await.unwrap(),
            1 => socket.write_all(partial_body.as_bytes()).await.unwrap(),
            _ => {} // connected, silent
        }
        held.push(socket);
    }
    // Others are served while they are held.
    let started = std::time::Instant::now();
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "healthz took {:?}",
        started.elapsed()
    );

    // Every one is closed: headers and bodies within about a second, silent
    // connections within the idle timeout.
    let mut still_open = 0;
    for socket in held.iter_mut() {
        if !closed_within(socket, Duration::from_secs(5)).await {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "connections left open past their timeouts");
    // A new connection (the test client's pooled one was idle past the
    // idle timeout too, and is closed).
    let fresh = reqwest::Client::new();
    let health = fresh.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// Past the connection limit, new connections are closed at once; room
/// frees up as connections end.
#[tokio::test]
async fn connections_past_the_limit_are_refused() {
    use std::time::Duration;
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.connections.max_connections = 20;
    let app = spawn_with(settings, db).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    // Let the server accept them all.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = tokio::net::TcpStream::connect(&address).await.unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_secs(1)).await,
        "the 21st connection was kept"
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}
