//! What every seed dialect shares: the refusals the framework makes itself
//! (a wrong method, a body over the limit) in the dialect's own shape, and
//! CORS for browsers on other origins.

use std::collections::BTreeSet;

use auth_service::api::{laravel, simplejwt, xaccess};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestDatabase, settings_for, spawn_app, spawn_with};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Native,
    Seed001,
    Seed002,
    Seed003,
}

fn shape_of(body: &Value, status: StatusCode) -> Shape {
    let object = body.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    match keys.as_slice() {
        ["detail"] | ["code", "detail"] => Shape::Seed001,
        ["code", "data", "errors", "message"] => {
            assert_eq!(body["code"], status.as_u16(), "{body}");
            Shape::Seed002
        }
        ["reason", "status"] => Shape::Seed003,
        _ if object.contains_key("msg") => Shape::Native,
        _ => panic!("an unknown shape: {body}"),
    }
}

/// Every route of the OpenAPI document under `tag`, as (method, path).
fn routes_tagged(document: &Value, tag: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let tags = operation["tags"].as_array().cloned().unwrap_or_default();
            if tags.iter().any(|t| t == tag) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

fn dialects() -> [(&'static str, &'static [&'static str], Shape); 3] {
    [
        ("Seed001", simplejwt::PATHS, Shape::Seed001),
        ("Seed002", laravel::PATHS, Shape::Seed002),
        ("Seed003", xaccess::PATHS, Shape::Seed003),
    ]
}

#[tokio::test]
async fn framework_refusals_on_dialect_routes_answer_in_the_dialects_shape() {
    let app = spawn_app().await;
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();
    let too_large = "x".repeat(64 * 1024 + 1);
    for (tag, paths, shape) in dialects() {
        // The wording's table names exactly the dialect's documented paths.
        let routes = routes_tagged(&document, tag);
        let documented: BTreeSet<&str> = routes.iter().map(|(_, path)| path.as_str()).collect();
        let listed: BTreeSet<&str> = paths.iter().copied().collect();
        assert_eq!(documented, listed, "{tag}");

        for (method, path) in &routes {
            // A body over the limit.
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let answer = app
                .client
                .request(method.clone(), app.url(path))
                .header("content-type", "application/json")
                .body(too_large.clone())
                .send()
                .await
                .unwrap();
            let status = answer.status();
            let body: Value = answer.json().await.unwrap();
            assert_eq!(
                status,
                StatusCode::PAYLOAD_TOO_LARGE,
                "{method} {path}: {body}"
            );
            assert_eq!(shape_of(&body, status), shape, "{method} {path}: {body}");
        }
        for path in paths {
            // A method the route does not have.
            let answer = app
                .client
                .request(Method::PUT, app.url(path))
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            let status = answer.status();
            let allow = answer.headers().get("allow").cloned();
            let body: Value = answer.json().await.unwrap();
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "PUT {path}: {body}");
            // RFC 9110: a 405 says which methods the path has.
            let allow = allow.unwrap_or_else(|| panic!("PUT {path}: no Allow"));
            let documented: Vec<String> = routes
                .iter()
                .filter(|(_, route)| route == path)
                .map(|(method, _)| method.clone())
                .collect();
            assert_eq!(allow.to_str().unwrap(), documented.join(", "), "{path}");
            assert_eq!(shape_of(&body, status), shape, "PUT {path}: {body}");
        }
    }
    // A native route's 405 names its methods too, parameters included.
    let answer = app
        .client
        .put(app.url("/api/v1/admin/users/12"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers()["allow"], "GET, PATCH");
    let answer = app
        .client
        .request(Method::TRACE, app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers()["allow"], "GET, PATCH");
    // The native routes keep the native shape, also beside a dialect's
    // paths (seed 004's /api/v1/login/email beside seed 002's /api/v1/login).
    for path in [
        "/api/v1/login/email",
        "/api/v1/auth/login/email",
        "/api/v1/users/lookup",
    ] {
        let answer = app
            .client
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(too_large.clone())
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(shape_of(&body, status), Shape::Native, "{path}: {body}");
    }
}

#[tokio::test]
async fn browsers_on_the_configured_origins_call_every_dialect() {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    let origin = "https://app.example.com";
    settings.cors = shared::http::CorsPolicy::Only(vec![origin.to_owned()]);
    let app = spawn_with(settings, db).await;
    let mut paths: Vec<&str> = Vec::new();
    for (_, dialect, _) in dialects() {
        paths.extend(dialect.iter().copied());
    }
    paths.push("/api/v1/auth/login/email");
    for path in paths {
        // The preflight, with the headers the dialects' clients send.
        let preflight = app
            .client
            .request(Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization,x-access-token",
            )
            .send()
            .await
            .unwrap();
        assert!(
            preflight.status().is_success(),
            "{path}: {}",
            preflight.status()
        );
        let headers = preflight.headers();
        assert_eq!(headers["access-control-allow-origin"], origin, "{path}");
        let allowed = headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        for header in ["content-type", "authorization", "x-access-token"] {
            assert!(allowed.contains(header), "{path}: {allowed}");
        }

        // The call itself carries the origin back; another origin gets
        // nothing a browser would accept.
        let call = app
            .client
            .post(app.url(path))
            .header("origin", origin)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            call.headers()["access-control-allow-origin"],
            origin,
            "{path}"
        );
        let stranger = app
            .client
            .request(Method::OPTIONS, app.url(path))
            .header("origin", "https://evil.example.net")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert!(
            stranger
                .headers()
                .get("access-control-allow-origin")
                .is_none_or(|value| value != "https://evil.example.net"),
            "{path}"
        );
    }
}
