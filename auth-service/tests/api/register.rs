use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, claims_of, expect, header_of, spawn_app};

#[tokio::test]
async fn register_answers_201_with_seed_004_token_fields() {
    let app = spawn_app().await;
    let body = app.register("Ann@Example.com").await;
    assert_eq!(body["userId"], 1);
    for field in [
        "token",
        "tokenIssuedDate",
        "tokenExpiredDate",
        "refreshToken",
        "refreshTokenExpiredDate",
    ] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    let issued = httpdate::parse_http_date(body["tokenIssuedDate"].as_str().unwrap()).unwrap();
    let expires = httpdate::parse_http_date(body["tokenExpiredDate"].as_str().unwrap()).unwrap();
    assert_eq!(expires.duration_since(issued).unwrap().as_secs(), 900);
    assert!(body["tokenIssuedDate"].as_str().unwrap().ends_with(" GMT"));

    let token = body["token"].as_str().unwrap();
    assert_eq!(header_of(token)["alg"], "EdDSA");
    assert!(header_of(token)["kid"].is_string());
    let claims = claims_of(token);
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["email"], "ann@example.com");
    assert_eq!(claims["typ"], "access");
    assert_eq!(claims["aud"], "api");
    assert_eq!(claims["iss"], app.address);
    for claim in ["exp", "iat", "jti", "sid", "role"] {
        assert!(!claims[claim].is_null(), "{claim}");
    }
    assert_ne!(body["refreshToken"], body["token"]);

    let me = expect(app.me(token).await, StatusCode::OK).await;
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["role"], "admin");
}

#[tokio::test]
async fn register_is_served_at_both_paths_and_takes_names() {
    let app = spawn_app().await;
    let body = json!({"email": "b@example.com", "password": PASSWORD, "password2": PASSWORD, "firstName": "Bo", "lastName": "Lee"});
    let created = expect(
        app.post("/api/v1/auth/register/email", &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        claims_of(created["token"].as_str().unwrap())["name"],
        "Bo Lee"
    );
    let me = expect(
        app.me(created["token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["firstName"], "Bo");
    assert_eq!(me["lastName"], "Lee");
}

#[tokio::test]
async fn every_documented_validation_error_answers_400() {
    let app = spawn_app().await;
    let long_email = format!("{}@example.com", "a".repeat(250));
    let cases = [
        (json!({}), "Bad Request: Email is missing."),
        (
            json!({"password": PASSWORD, "password2": PASSWORD}),
            "Bad Request: Email is missing.",
        ),
        (
            json!({"email": "", "password": PASSWORD, "password2": PASSWORD}),
            "Bad Request: Email is missing.",
        ),
        (
            json!({"email": "c@example.com", "password2": PASSWORD}),
            "Bad Request: Password is missing.",
        ),
        (
            json!({"email": "c@example.com", "password": PASSWORD}),
            "Bad Request: Password2 is missing.",
        ),
        (
            json!({"email": "c@example.com", "password": "12345", "password2": "12345"}),
            "Bad Request: Password must be 6 or more characters.",
        ),
        (
            json!({"email": "c@example.com", "password": "tulip-orbit-93", "password2": "tulip-orbit-94"}),
            "Bad Request: Passwords do not match.",
        ),
        // Weak passwords: the most common ones, blank, control characters.
        (
            json!({"email": "c@example.com", "password": "123456", "password2": "123456"}),
            "Bad Request: Password is too common.",
        ),
        (
            json!({"email": "c@example.com", "password": "password", "password2": "password"}),
            "Bad Request: Password is too common.",
        ),
        (
            json!({"email": "c@example.com", "password": "      ", "password2": "      "}),
            "Bad Request: Password must not be blank or contain control characters.",
        ),
        (
            json!({"email": "c@example.com", "password": "\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}", "password2": "\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}"}),
            "Bad Request: Password must not be blank or contain control characters.",
        ),
        // U+0000 is no character of any field: refused before any rule.
        (
            json!({"email": "c@example.com", "password": "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}", "password2": "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}"}),
            "Bad Request: The request is malformed or has a field of the wrong type.",
        ),
        (
            json!({"email": long_email, "password": PASSWORD, "password2": PASSWORD}),
            "Bad Request: Email is longer than 255 characters.",
        ),
        (
            json!({"email": "not-an-email", "password": PASSWORD, "password2": PASSWORD}),
            "Bad Request: Email is invalid.",
        ),
        (
            json!({"email": "c@example.com", "password": "x".repeat(1025), "password2": "x".repeat(1025)}),
            "Bad Request: Password must be at most 1024 characters.",
        ),
    ];
    for (body, msg) in cases {
        let answer = expect(
            app.post("/api/v1/register/email", &body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(answer["msg"], msg, "for {body}");
        assert!(answer["humanMsg"].is_string(), "for {body}");
    }
    // Nothing was written by any refused attempt: the next user is user 1.
    assert_eq!(app.register("c@example.com").await["userId"], 1);
}

#[tokio::test]
async fn an_existing_email_answers_409_whatever_its_case() {
    let app = spawn_app().await;
    app.register("dup@example.com").await;
    let body = json!({"email": "DUP@example.com", "password": PASSWORD, "password2": PASSWORD});
    let answer = expect(
        app.post("/api/v1/register/email", &body).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        answer,
        json!({"msg": "Conflict: User email already has existing email", "humanMsg": "This email has already been register.", "code": "email_taken"})
    );
}

#[tokio::test]
async fn only_the_first_user_is_admin() {
    let app = spawn_app().await;
    let first = app.register("first@example.com").await;
    let second = app.register("second@example.com").await;
    assert_eq!(claims_of(first["token"].as_str().unwrap())["role"], "admin");
    assert_eq!(claims_of(second["token"].as_str().unwrap())["role"], "user");
}

#[tokio::test]
async fn twenty_racing_first_registrations_make_exactly_one_admin() {
    let app = spawn_app().await;
    let attempts = (0..20).map(|i| {
        let body = json!({"email": format!("racer{i}@example.com"), "password": PASSWORD, "password2": PASSWORD});
        let request = app.client.post(app.url("/api/v1/register/email")).json(&body);
        async move { request.send().await.unwrap() }
    });
    let responses = futures::future::join_all(attempts).await;
    let mut admins = 0;
    for response in responses {
        let body = expect(response, StatusCode::CREATED).await;
        if claims_of(body["token"].as_str().unwrap())["role"] == "admin" {
            admins += 1;
        }
    }
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn racing_registrations_of_one_email_create_one_account() {
    let app = spawn_app().await;
    let attempts = (0..8).map(|_| {
        let body =
            json!({"email": "same@example.com", "password": PASSWORD, "password2": PASSWORD});
        let request = app
            .client
            .post(app.url("/api/v1/register/email"))
            .json(&body);
        async move { request.send().await.unwrap().status() }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}
