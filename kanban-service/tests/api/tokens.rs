//! Tokens are verified by kanban on its own, against the account manager's
//! JWKS and the shared revocation state.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{RedisServer, expect, expect_msg, spawn_stack, spawn_stack_with};

#[tokio::test]
async fn both_token_headers_work_and_bad_tokens_fail_authentication() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let bearer = stack
        .client
        .get(stack.url("/organizations"))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    assert_eq!(
        stack.get("/organizations", &ann).await.status(),
        StatusCode::OK
    );

    expect_msg(
        stack.send(Method::GET, "/organizations", None, None).await,
        StatusCode::UNAUTHORIZED,
        "Authentication failed",
    )
    .await;
    for token in ["garbage", "a.b.c", ann.refresh_token.as_str()] {
        let response = stack
            .send(Method::GET, "/organizations", Some(token), None)
            .await;
        expect_msg(response, StatusCode::UNAUTHORIZED, "Authentication failed").await;
    }
    let mut parts: Vec<&str> = ann.token.split('.').collect();
    let forged_payload = base64_url(&json!({"sub": "2", "typ": "access"}).to_string());
    parts[1] = &forged_payload;
    let forged = parts.join(".");
    expect_msg(
        stack
            .send(Method::GET, "/organizations", Some(&forged), None)
            .await,
        StatusCode::UNAUTHORIZED,
        "Authentication failed",
    )
    .await;
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn tokens_revoked_at_the_account_manager_are_refused_at_once() {
    // Revocation reaches kanban through Redis: use the shared one, or start one.
    let own = match std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        Some(_) => None,
        None => Some(RedisServer::start().await),
    };
    let url = own
        .as_ref()
        .map(|server| server.url.clone())
        .or_else(|| std::env::var("TEST_REDIS_URL").ok());
    let stack = spawn_stack_with(url).await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let second = {
        let login = json!({"email": "ann@mail.com", "password": crate::helpers::PASSWORD});
        let answer = expect(
            stack.send(Method::POST, "/login", None, Some(login)).await,
            StatusCode::OK,
        )
        .await;
        answer["access_token"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        stack.get("/organizations", &ann).await.status(),
        StatusCode::OK
    );

    assert_eq!(
        stack
            .auth_post("/api/v1/auth/logout", &ann.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    crate::helpers::until_refused(&stack, &ann.token).await;
    expect_msg(
        stack.get("/organizations", &ann).await,
        StatusCode::UNAUTHORIZED,
        "Authentication failed",
    )
    .await;
    // The other session is alive until logout-all.
    assert_eq!(
        stack
            .send(Method::GET, "/organizations", Some(&second), None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        stack
            .auth_post("/api/v1/auth/logout/all", &second)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    crate::helpers::until_refused(&stack, &second).await;
    expect_msg(
        stack
            .send(Method::GET, "/organizations", Some(&second), None)
            .await,
        StatusCode::UNAUTHORIZED,
        "Authentication failed",
    )
    .await;
    // A new login works at once.
    let fresh = {
        let login = json!({"email": "ann@mail.com", "password": crate::helpers::PASSWORD});
        let answer = expect(
            stack.send(Method::POST, "/login", None, Some(login)).await,
            StatusCode::OK,
        )
        .await;
        answer["access_token"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        stack
            .send(Method::GET, "/organizations", Some(&fresh), None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn redis_down_means_503_not_a_guess() {
    let mut redis = RedisServer::start().await;
    let stack = crate::helpers::spawn_stack_custom(
        Some(redis.url.clone()),
        vec![("KANBAN_REVOCATION_STALENESS", "2".into())],
    )
    .await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    assert_eq!(
        stack.get("/organizations", &ann).await.status(),
        StatusCode::OK
    );
    redis.stop();
    // Once the revocation set is older than the staleness bound.
    let stopped = std::time::Instant::now();
    let answer = loop {
        let response = stack.get("/organizations", &ann).await;
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            break response.json::<serde_json::Value>().await.unwrap();
        }
        assert_eq!(response.status(), StatusCode::OK);
        assert!(stopped.elapsed() < std::time::Duration::from_secs(5));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        answer["msg"],
        "Service unavailable: token revocation state cannot be checked"
    );
    expect(
        stack.client.get(stack.url("/readyz")).send().await.unwrap(),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
}

fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Seed-000 browsers never refresh: kanban's sign-ins get the extended
/// access-token lifetime, and revocation still ends those tokens at once.
#[tokio::test]
async fn kanban_sign_ins_outlive_the_native_lifetime_and_die_at_logout() {
    let redis = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty());
    let stack = crate::helpers::spawn_stack_full(
        redis,
        vec![
            ("AUTH_ACCESS_TOKEN_TTL", "1".to_owned()),
            ("AUTH_EXTENDED_ACCESS_TOKEN_TTL", "3600".to_owned()),
        ],
        Vec::new(),
    )
    .await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let kanban_claims = claims(&ann.token);
    assert_eq!(
        kanban_claims["exp"].as_i64().unwrap() - kanban_claims["iat"].as_i64().unwrap(),
        3600
    );
    // The same account signing in at the account manager itself gets the
    // native lifetime.
    let native = stack
        .auth_send(
            Method::POST,
            "/api/v1/auth/login/email",
            None,
            json!({"email": "ann@mail.com", "password": crate::helpers::PASSWORD}),
        )
        .await;
    let native = expect(native, StatusCode::OK).await;
    let native_token = native["token"].as_str().unwrap().to_owned();
    let native_claims = claims(&native_token);
    assert_eq!(
        native_claims["exp"].as_i64().unwrap() - native_claims["iat"].as_i64().unwrap(),
        1
    );

    // Past the native lifetime (and the verifiers' 5 s clock-skew
    // leeway, in whole seconds), kanban's token still works; the native
    // one does not.
    tokio::time::sleep(std::time::Duration::from_millis(7100)).await;
    assert_eq!(
        stack.get("/organizations", &ann).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        stack.user_status_at(&stack.kanban_url, &native_token).await,
        StatusCode::UNAUTHORIZED
    );

    // Logout at the account manager: refused at once.
    let logout = stack.auth_post("/api/v1/auth/logout", &ann.token).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    crate::helpers::until_refused(&stack, &ann.token).await;
}
