use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestDatabase, claims_of, expect, settings_for, spawn_app, spawn_with};

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_keeps_the_session() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    let second = expect(
        app.refresh(field(&first, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(
        field(&second, "refreshToken"),
        field(&first, "refreshToken")
    );
    assert_eq!(second["userId"], 1);
    let (old, new) = (
        claims_of(field(&first, "token")),
        claims_of(field(&second, "token")),
    );
    assert_eq!(old["sid"], new["sid"]);
    assert_ne!(old["jti"], new["jti"]);
    expect(app.me(field(&second, "token")).await, StatusCode::OK).await;
    // The successor rotates in turn.
    let third = expect(
        app.refresh(field(&second, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
    expect(app.me(field(&third, "token")).await, StatusCode::OK).await;
}

/// When the session's one row says it was last used.
async fn last_used(app: &crate::helpers::TestApp, answer: &Value) -> chrono::DateTime<chrono::Utc> {
    let listed = expect(
        app.get_auth("/api/v1/auth/sessions", field(answer, "token"))
            .await,
        StatusCode::OK,
    )
    .await;
    let sessions = listed.as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{listed}");
    field(&sessions[0], "lastUsedAt").parse().unwrap()
}

#[tokio::test]
async fn a_rotation_marks_its_session_used_with_the_rotation() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    let before = last_used(&app, &first).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = expect(
        app.refresh(field(&first, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
    let after = last_used(&app, &second).await;
    assert!(after > before, "{before} then {after}");
    // The successor the rotation stored is redeemable.
    expect(
        app.refresh(field(&second, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn concurrent_refreshes_within_the_grace_window_get_the_same_pair() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    let token = field(&first, "refreshToken").to_owned();
    let attempts = (0..6).map(|_| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/token/refresh"))
            .json(&json!({"refreshToken": token}));
        async move { request.send().await.unwrap() }
    });
    let mut answers = Vec::new();
    for response in futures::future::join_all(attempts).await {
        answers.push(expect(response, StatusCode::OK).await);
    }
    for answer in &answers[1..] {
        assert_eq!(answer["token"], answers[0]["token"]);
        assert_eq!(answer["refreshToken"], answers[0]["refreshToken"]);
        assert_eq!(answer["tokenIssuedDate"], answers[0]["tokenIssuedDate"]);
    }
    // A sequential retry inside the window: same answer again.
    let again = expect(app.refresh(&token).await, StatusCode::OK).await;
    assert_eq!(again["refreshToken"], answers[0]["refreshToken"]);
    // And the session lives on.
    let next = expect(
        app.refresh(field(&answers[0], "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
    expect(app.me(field(&next, "token")).await, StatusCode::OK).await;
}

/// A stolen refresh token replayed by another client inside the grace
/// window gets nothing, and ends the session for the thief and the owner.
#[tokio::test]
async fn a_replay_within_the_grace_window_from_another_client_is_reuse() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    let token = field(&first, "refreshToken").to_owned();
    let refresh_as = |agent: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/token/refresh"))
            .header("User-Agent", agent)
            .json(&json!({"refreshToken": token}))
            .send()
    };
    let owner = expect(refresh_as("Owner/1.0").await.unwrap(), StatusCode::OK).await;
    // The owner's own retry (another tab) is still answered...
    let retry = expect(refresh_as("Owner/1.0").await.unwrap(), StatusCode::OK).await;
    assert_eq!(retry["refreshToken"], owner["refreshToken"]);
    // ...a thief's replay is not, and it kills the session.
    let thief = refresh_as("Thief/6.6").await.unwrap();
    assert_eq!(thief.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.refresh(field(&owner, "refreshToken")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me(field(&owner, "token")).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn reuse_after_the_grace_window_kills_the_whole_session() {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.tokens.refresh_grace = Duration::from_secs(1);
    let app = spawn_with(settings, db).await;
    let first = app.register("ann@example.com").await;
    let other_session = app.login("ann@example.com").await;
    let second = expect(
        app.refresh(field(&first, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
    let third = expect(
        app.refresh(field(&second, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;

    // Someone replays the first token: the session dies.
    let reuse = expect(
        app.refresh(field(&first, "refreshToken")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(reuse["msg"], "Unauthorized: Invalid refresh token.");
    assert_eq!(reuse["code"], "invalid_refresh_token");
    // The newest refresh token of that session is refused too...
    expect(
        app.refresh(field(&third, "refreshToken")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // ...and so are its access tokens.
    expect(
        app.me(field(&third, "token")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Another session of the same user is untouched.
    expect(app.me(field(&other_session, "token")).await, StatusCode::OK).await;
    expect(
        app.refresh(field(&other_session, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
    // The reuse is in the audit log, once.
    let reused = app
        .db
        .strings("SELECT detail FROM audit_events WHERE kind = 'refresh_token_reused'")
        .await;
    assert_eq!(reused, ["session ended"]);
}

/// Several clients present the same refresh token at once: exactly one
/// rotation happens and is answered; every other client is a stranger
/// replaying a rotated token, which ends the session.
#[tokio::test]
async fn concurrent_refreshes_from_different_clients_rotate_once_and_end_the_session() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    let token = field(&first, "refreshToken").to_owned();
    let attempts = (0..4).map(|i| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/token/refresh"))
            .header("User-Agent", format!("Tab/{i}"))
            .json(&json!({"refreshToken": token}));
        async move { request.send().await.unwrap() }
    });
    let mut won = Vec::new();
    for response in futures::future::join_all(attempts).await {
        match response.status() {
            StatusCode::OK => won.push(response.json::<Value>().await.unwrap()),
            StatusCode::UNAUTHORIZED => {
                let body = response.json::<Value>().await.unwrap();
                assert_eq!(body["code"], "invalid_refresh_token");
            }
            other => panic!("a concurrent refresh answered {other}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one rotation is answered");
    // The losers ended the session: the winner's successor is refused.
    expect(
        app.refresh(field(&won[0], "refreshToken")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let rotated = app
        .db
        .strings("SELECT token_hash FROM refresh_tokens WHERE rotated_at IS NOT NULL")
        .await;
    assert_eq!(rotated.len(), 1);
    let ended = app
        .db
        .strings("SELECT id FROM sessions WHERE revoked_at IS NOT NULL")
        .await;
    assert_eq!(ended.len(), 1);
}

/// A disabled account whose session is still live (its sessions are
/// normally ended with it) is refused, and the refusal consumes nothing:
/// once the account is active again, the same token refreshes.
#[tokio::test]
async fn refresh_is_refused_while_the_account_is_disabled() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    app.db
        .execute("UPDATE users SET status = 'disabled' WHERE id = 1")
        .await;
    let refused = expect(
        app.refresh(field(&first, "refreshToken")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(refused["code"], "account_disabled");
    app.db
        .execute("UPDATE users SET status = 'active' WHERE id = 1")
        .await;
    expect(
        app.refresh(field(&first, "refreshToken")).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn unknown_missing_and_access_tokens_are_refused_as_refresh_tokens() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    expect(app.refresh("not-a-token").await, StatusCode::UNAUTHORIZED).await;
    // An access token is not a refresh token.
    expect(
        app.refresh(field(&first, "token")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let missing = app.post("/api/v1/auth/token/refresh", &json!({})).await;
    assert_eq!(
        expect(missing, StatusCode::BAD_REQUEST).await["msg"],
        "Bad Request: Refresh token is missing."
    );
}

#[tokio::test]
async fn refresh_is_refused_once_the_account_is_banned() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    app.db
        .execute("UPDATE users SET status = 'banned' WHERE id = 1")
        .await;
    expect(
        app.refresh(field(&first, "refreshToken")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}
