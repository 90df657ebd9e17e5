use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect, spawn_app};

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap()
}

#[tokio::test]
async fn logout_ends_the_session_everywhere_it_is_checked() {
    let app = spawn_app().await;
    let session = app.register("ann@example.com").await;
    let other = app.login("ann@example.com").await;
    let token = field(&session, "token");
    assert_eq!(
        expect(app.validate(token).await, StatusCode::OK).await["isValid"],
        true
    );

    let response = app.post_auth("/api/v1/auth/logout", token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let refused = app.me(token).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().get("www-authenticate").is_some());
    assert_eq!(
        expect(app.validate(token).await, StatusCode::OK).await,
        serde_json::json!({"isValid": false})
    );
    expect(
        app.refresh(field(&session, "refreshToken")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Logging out again with the dead token is refused.
    expect(
        app.post_auth("/api/v1/auth/logout", token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // The user's other session is untouched.
    expect(app.me(field(&other, "token")).await, StatusCode::OK).await;
    expect(
        app.refresh(field(&other, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn a_refreshed_access_token_of_a_logged_out_session_dies_too() {
    let app = spawn_app().await;
    let session = app.register("ann@example.com").await;
    let refreshed = expect(
        app.refresh(field(&session, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
    // Log out with the first access token: the refreshed one shares its session.
    assert_eq!(
        app.post_auth("/api/v1/auth/logout", field(&session, "token"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    expect(
        app.me(field(&refreshed, "token")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect(
        app.refresh(field(&refreshed, "refreshToken")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn logout_all_ends_every_session_of_the_user_only() {
    let app = spawn_app().await;
    let sessions = [
        app.register("ann@example.com").await,
        app.login("ann@example.com").await,
        app.login("ann@example.com").await,
    ];
    let bystander = app.register("bob@example.com").await;

    let response = app
        .post_auth("/api/v1/auth/logout/all", field(&sessions[1], "token"))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for session in &sessions {
        expect(
            app.me(field(session, "token")).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(
            expect(app.validate(field(session, "token")).await, StatusCode::OK).await["isValid"],
            false
        );
        expect(
            app.refresh(field(session, "refreshToken")).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    expect(app.me(field(&bystander, "token")).await, StatusCode::OK).await;

    // Logging in again works at once.
    let fresh = app.login("ann@example.com").await;
    expect(app.me(field(&fresh, "token")).await, StatusCode::OK).await;
    expect(
        app.refresh(field(&fresh, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn logout_without_a_token_answers_401_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("www-authenticate").is_some());
    let body = expect(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        body["msg"],
        "Unauthorized: Missing or invalid access token."
    );
}
