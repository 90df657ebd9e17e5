//! Malformed requests get a 4xx with a `msg`; never a 500, never a write.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect, spawn_app};

#[tokio::test]
async fn malformed_bodies_get_a_4xx_with_a_msg() {
    let app = spawn_app().await;
    let register = app.url("/api/v1/register/email");
    let cases: Vec<(&str, Option<&str>, StatusCode)> = vec![
        (
            "{not json",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
        ),
        ("", Some("application/json"), StatusCode::BAD_REQUEST),
        ("[1, 2]", Some("application/json"), StatusCode::BAD_REQUEST),
        (
            "\"text\"",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"email": 123, "password": "secret1", "password2": "secret1"}"#,
            Some("application/json"),
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"email": ["a@b.co"], "password": "secret1", "password2": "secret1"}"#,
            Some("application/json"),
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"email": "a@b.co", "password": {"x": 1}, "password2": "secret1"}"#,
            Some("application/json"),
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"email": "a@b.co"}"#,
            Some("text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            r#"{"email": "a@b.co"}"#,
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ];
    for (body, content_type, status) in cases {
        let mut request = app.client.post(&register).body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let answer = expect(request.send().await.unwrap(), status).await;
        let msg = answer["msg"]
            .as_str()
            .unwrap_or_else(|| panic!("msg for {body:?}: {answer}"));
        assert!(
            !msg.contains("poem") && !msg.contains("RegisterRequest"),
            "internal detail in {msg}"
        );
    }
    // None of that created anything.
    assert_eq!(app.register("a@b.co").await["userId"], 1);
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app().await;
    let huge = json!({"email": "a@b.co", "password": "x".repeat(200_000), "password2": "x"});
    let answer = expect(
        app.post("/api/v1/register/email", &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(
        answer["msg"],
        "Payload Too Large: The request body is too large."
    );
    // Without a Content-Length (chunked), the limit holds as well.
    let chunks = futures::stream::iter((0..100).map(|_| Ok::<_, std::io::Error>("x".repeat(1024))));
    let response = app
        .client
        .post(app.url("/api/v1/login/email"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    assert_eq!(
        expect(app.get("/nope").await, StatusCode::NOT_FOUND).await["msg"],
        "Not Found: No such route."
    );
    let wrong_method = app.get("/api/v1/register/email").await;
    assert_eq!(
        expect(wrong_method, StatusCode::METHOD_NOT_ALLOWED).await["msg"],
        "Method Not Allowed."
    );
}

/// U+0000 is no character of any field, and PostgreSQL cannot store or
/// compare it: every way of sending it answers 400, never a 500, and
/// nothing is written.
#[tokio::test]
async fn text_with_nul_is_refused_wherever_it_is_sent() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    let bodies = [
        (
            "/api/v1/auth/login/email",
            json!({"email": "ann@example.com\u{0}", "password": "x"}),
        ),
        (
            "/api/v1/register/email",
            json!({"email": "b\u{0}@example.com", "password": "secret1", "password2": "secret1"}),
        ),
        (
            "/api/v1/auth/reactivate",
            json!({"email": "\u{0}", "password": "secret1"}),
        ),
    ];
    for (path, body) in bodies {
        expect(app.post(path, &body).await, StatusCode::BAD_REQUEST).await;
    }
    // Seed dialects refuse it in their own shapes.
    let seed003 = expect(
        app.post(
            "/api/v1/user/login",
            &json!({"username": "ann\u{0}", "password": "x"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(seed003["status"], "BAD REQUEST");
    // In a path or a query.
    expect(
        app.get("/api/v1/auth/verify-email?token=a%00b").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect(
        app.get("/api/v1/admin/users/%00").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Nothing was written: the next account is the second.
    let next = app.register("carl@example.com").await;
    assert_eq!(next["userId"], 2);
}

#[tokio::test]
async fn docs_and_probes_are_served() {
    let app = spawn_app().await;
    let spec = expect(app.get("/openapi.json").await, StatusCode::OK).await;
    for path in [
        "/api/v1/auth/register/email",
        "/api/v1/login/email",
        "/api/v1/auth/token/refresh",
        "/api/v1/auth/me",
        "/.well-known/jwks.json",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} in the OpenAPI document"
        );
    }
    assert_eq!(app.get("/docs").await.status(), StatusCode::OK);
    assert_eq!(
        expect(app.get("/healthz").await, StatusCode::OK).await["status"],
        "ok"
    );
    assert_eq!(
        expect(app.get("/readyz").await, StatusCode::OK).await["status"],
        "ok"
    );
    let with_id = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(with_id.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn refusals_carry_a_machine_readable_code() {
    let app = spawn_app().await;
    let session = app.register("ann@example.com").await;
    let cases = [
        (
            app.post("/api/v1/register/email", &json!({"password": "x"}))
                .await,
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            app.post(
                "/api/v1/login/email",
                &json!({"email": "ann@example.com", "password": "wrong password"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_credentials",
        ),
        (
            app.me("not-a-token").await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
        (
            app.refresh("not-a-refresh-token").await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        ),
        (
            app.post_auth(
                "/api/v1/admin/signing-keys/nope/revoke",
                session["token"].as_str().unwrap(),
            )
            .await,
            StatusCode::NOT_FOUND,
            "key_not_found",
        ),
    ];
    for (response, status, code) in cases {
        let body = expect(response, status).await;
        assert_eq!(body["code"], code, "{body}");
    }
}
