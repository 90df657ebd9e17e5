//! With Redis configured but unreachable, nothing that needs revocation
//! state is answered from guesswork: after the staleness bound, 503, never
//! 200; revocations and refreshes answer 503 at once.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{RedisServer, TestDatabase, expect, settings_for, spawn_with};

#[tokio::test]
async fn redis_down_means_503_for_refresh_validate_logout_and_protected_routes() {
    let mut redis = RedisServer::start().await;
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.redis_url = Some(redis.url.clone());
    settings.revocation_staleness = Duration::from_secs(2);
    let app = spawn_with(settings, db).await;

    let session = app.register("ann@example.com").await;
    let token = session["token"].as_str().unwrap().to_owned();
    let refreshed = expect(
        app.refresh(session["refreshToken"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        expect(app.validate(&token).await, StatusCode::OK).await["isValid"],
        true
    );
    expect(app.get("/readyz").await, StatusCode::OK).await;
    let other = app.login("ann@example.com").await;

    redis.stop();
    let stopped = Instant::now();
    // A revocation cannot be spread: 503 (it is recorded, and spread when
    // Redis is back).
    expect(
        app.post_auth("/api/v1/auth/logout", other["token"].as_str().unwrap())
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    // Past the staleness bound, protected routes refuse to guess.
    loop {
        let status = app.me(&token).await.status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "me answered {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Refresh stops once the publisher has not reached Redis for a while.
    tokio::time::sleep(Duration::from_millis(3500).saturating_sub(stopped.elapsed())).await;

    let refresh = expect(
        app.refresh(refreshed["refreshToken"].as_str().unwrap())
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(
        refresh["msg"],
        "Service Unavailable: Token revocation state cannot be checked."
    );
    expect(app.validate(&token).await, StatusCode::SERVICE_UNAVAILABLE).await;
    expect(app.me(&token).await, StatusCode::SERVICE_UNAVAILABLE).await;
    let ready = expect(app.get("/readyz").await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(ready["revocationStore"], "unavailable");
    // Liveness does not depend on Redis.
    expect(app.get("/healthz").await, StatusCode::OK).await;
}

#[tokio::test]
async fn redis_revocations_stop_tokens_at_once() {
    let redis = RedisServer::start().await;
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.redis_url = Some(redis.url.clone());
    let app = spawn_with(settings, db).await;
    let session = app.register("ann@example.com").await;
    let other = app.login("ann@example.com").await;
    let token = session["token"].as_str().unwrap();
    assert_eq!(
        app.post_auth("/api/v1/auth/logout", token).await.status(),
        StatusCode::NO_CONTENT
    );
    expect(app.me(token).await, StatusCode::UNAUTHORIZED).await;
    expect(
        app.me(other["token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    let other_token = other["token"].as_str().unwrap();
    assert_eq!(
        app.post_auth("/api/v1/auth/logout/all", other_token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    expect(app.me(other_token).await, StatusCode::UNAUTHORIZED).await;
}
