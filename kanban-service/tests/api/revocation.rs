//! Revocation reaches kanban on the next request, in both deployment modes:
//! every cause, key rotation and revocation, Redis losing its data, a
//! verifier started late, a silent feed and a failing key source.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    CLIENT_ID, CLIENT_SECRET, RedisServer, Stack, User, expect, spawn_stack, spawn_stack_custom,
    spawn_stack_with,
};

const WITHIN: Duration = Duration::from_secs(1);

/// Polls kanban until it refuses `token` (401); panics past `limit`. Then
/// the account manager must refuse it too, and both keep refusing it.
pub(crate) async fn refused_everywhere_within(
    stack: &Stack,
    token: &str,
    limit: Duration,
    what: &str,
) {
    let started = Instant::now();
    loop {
        let status = stack.user_status_at(&stack.kanban_url, token).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            started.elapsed() < limit,
            "{what}: kanban still answers {status} after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for _ in 0..3 {
        assert_eq!(
            stack.me_status(token).await,
            StatusCode::UNAUTHORIZED,
            "{what}: auth"
        );
        assert_eq!(
            stack.user_status_at(&stack.kanban_url, token).await,
            StatusCode::UNAUTHORIZED,
            "{what}: kanban, later"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn oauth_revoke(stack: &Stack, token: &str) {
    let response = stack
        .client
        .post(format!("{}/api/v1/oauth/revoke", stack.auth_url))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

pub(crate) async fn every_cause_reaches_kanban(stack: &Stack) {
    for (n, cause) in ["logout", "logout-all", "end-session", "revoke-access-token"]
        .into_iter()
        .enumerate()
    {
        let user = stack
            .user("Rita", "Revoked", &format!("rita{n}@mail.com"))
            .await;
        let bystander = stack
            .user("Bob", "Bystander", &format!("bob{n}@mail.com"))
            .await;
        assert_eq!(
            stack.user_status_at(&stack.kanban_url, &user.token).await,
            StatusCode::OK
        );
        match cause {
            "logout" => {
                let answer = stack.auth_post("/api/v1/auth/logout", &user.token).await;
                assert_eq!(answer.status(), StatusCode::NO_CONTENT);
            }
            "logout-all" => {
                let answer = stack
                    .auth_post("/api/v1/auth/logout/all", &user.token)
                    .await;
                assert_eq!(answer.status(), StatusCode::NO_CONTENT);
            }
            "end-session" => oauth_revoke(stack, &user.refresh_token).await,
            _ => oauth_revoke(stack, &user.token).await,
        }
        refused_everywhere_within(stack, &user.token, WITHIN, cause).await;
        assert_eq!(
            stack
                .user_status_at(&stack.kanban_url, &bystander.token)
                .await,
            StatusCode::OK,
            "{cause}: another user's token is untouched"
        );
    }
}

#[tokio::test]
async fn every_revocation_cause_reaches_kanban_within_a_second_without_redis() {
    let stack = spawn_stack_with(None).await;
    every_cause_reaches_kanban(&stack).await;
}

#[tokio::test]
async fn every_revocation_cause_reaches_kanban_within_a_second_with_redis() {
    let redis = RedisServer::start().await;
    let stack = spawn_stack_with(Some(redis.url.clone())).await;
    every_cause_reaches_kanban(&stack).await;
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn login(stack: &Stack, email: &str) -> String {
    let answer = expect(
        stack
            .client
            .post(stack.url("/login"))
            .json(&json!({"email": email, "password": crate::helpers::PASSWORD}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    answer["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_signing_key_works_at_once_and_a_revoked_one_stops_everywhere() {
    let stack = spawn_stack().await;
    let admin = stack.user("Ada", "Admin", "ada@mail.com").await;
    let old_kid = kid_of(&admin.token);
    assert_eq!(
        stack.user_status_at(&stack.kanban_url, &admin.token).await,
        StatusCode::OK
    );
    let rotated = expect(
        stack
            .auth_post("/api/v1/admin/signing-keys/rotate", &admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    // The very first request with a token of the new key is accepted.
    let fresh = stack.user("Bea", "B", "bea@mail.com").await;
    assert_eq!(kid_of(&fresh.token), new_kid);
    assert_eq!(
        stack.user_status_at(&stack.kanban_url, &fresh.token).await,
        StatusCode::OK
    );
    // Tokens of the old key stay valid until they expire.
    assert_eq!(
        stack.user_status_at(&stack.kanban_url, &admin.token).await,
        StatusCode::OK
    );
    assert_eq!(stack.me_status(&admin.token).await, StatusCode::OK);

    // The old key is compromised: its tokens die everywhere.
    let admin_now = login(&stack, "ada@mail.com").await;
    assert_eq!(kid_of(&admin_now), new_kid);
    expect(
        stack
            .auth_post(
                &format!("/api/v1/admin/signing-keys/{old_kid}/revoke"),
                &admin_now,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    refused_everywhere_within(&stack, &admin.token, WITHIN, "revoked key").await;
    assert_eq!(
        stack.user_status_at(&stack.kanban_url, &fresh.token).await,
        StatusCode::OK
    );
    let jwks: Value = stack
        .client
        .get(format!("{}/.well-known/jwks.json", stack.auth_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|key| key["kid"] != old_kid.as_str()),
        "a revoked key is not published: {jwks}"
    );
}

#[tokio::test]
async fn a_verifier_started_after_the_revocations_refuses_them_from_its_first_request() {
    for redis in [None, Some(RedisServer::start().await)] {
        let mut stack = spawn_stack_with(redis.as_ref().map(|r| r.url.clone())).await;
        let gone = stack.user("Gus", "Gone", "gus@mail.com").await;
        let kept = stack.user("Kim", "Kept", "kim@mail.com").await;
        stack.auth_post("/api/v1/auth/logout", &gone.token).await;
        let late = stack.spawn_kanban().await;
        assert_eq!(
            stack.user_status_at(&late, &gone.token).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            stack.user_status_at(&late, &kept.token).await,
            StatusCode::OK
        );
    }
}

/// Polls for `span`: the revoked token is never accepted by either
/// service; answers when the valid one was first accepted by kanban again.
async fn never_accepted_while(
    stack: &Stack,
    revoked: &User,
    valid: &User,
    span: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut back = None;
    while started.elapsed() < span {
        let at_kanban = stack
            .user_status_at(&stack.kanban_url, &revoked.token)
            .await;
        let at_auth = stack.me_status(&revoked.token).await;
        for (who, status) in [("kanban", at_kanban), ("auth", at_auth)] {
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::SERVICE_UNAVAILABLE,
                "{who} answered {status} for a revoked token after {:?}",
                started.elapsed()
            );
        }
        if back.is_none()
            && stack.user_status_at(&stack.kanban_url, &valid.token).await == StatusCode::OK
        {
            back = Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    back
}

#[tokio::test]
async fn redis_losing_its_data_never_revives_a_revoked_token() {
    let mut redis = RedisServer::start().await;
    let stack = spawn_stack_with(Some(redis.url.clone())).await;
    let revoked = stack.user("Rex", "Revoked", "rex@mail.com").await;
    let valid = stack.user("Val", "Valid", "val@mail.com").await;
    stack.auth_post("/api/v1/auth/logout", &revoked.token).await;
    refused_everywhere_within(&stack, &revoked.token, WITHIN, "logout").await;

    redis.restart_empty().await;
    let back = never_accepted_while(&stack, &revoked, &valid, Duration::from_secs(15)).await;
    let back = back.expect("valid tokens work again after Redis restarted empty");
    assert!(back < Duration::from_secs(10), "back after {back:?}");

    redis.flush_all().await;
    let back = never_accepted_while(&stack, &revoked, &valid, Duration::from_secs(15)).await;
    let back = back.expect("valid tokens work again after FLUSHALL");
    assert!(back < Duration::from_secs(10), "back after {back:?}");
}

/// Waits until kanban answers 503 for a valid token; answers how long the
/// valid token kept working.
async fn served_until_stale(stack: &Stack, revoked: &User, valid: &User) -> Duration {
    let started = Instant::now();
    loop {
        let status = stack.user_status_at(&stack.kanban_url, &valid.token).await;
        let revoked_status = stack
            .user_status_at(&stack.kanban_url, &revoked.token)
            .await;
        assert_ne!(revoked_status, StatusCode::OK, "a revoked token was served");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return started.elapsed();
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "still serving after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const STALENESS: &str = "3";

#[tokio::test]
async fn without_its_feed_kanban_serves_for_the_staleness_bound_then_503_without_redis() {
    let mut stack = spawn_stack_custom(
        None,
        vec![("KANBAN_REVOCATION_STALENESS", STALENESS.into())],
    )
    .await;
    let revoked = stack.user("Rex", "Revoked", "rex@mail.com").await;
    let valid = stack.user("Val", "Valid", "val@mail.com").await;
    stack.auth_post("/api/v1/auth/logout", &revoked.token).await;
    refused_everywhere_within(&stack, &revoked.token, WITHIN, "logout").await;
    stack.stop_auth().await;
    let served = served_until_stale(&stack, &revoked, &valid).await;
    assert!(served >= Duration::from_secs(1), "stale after {served:?}");
    for _ in 0..5 {
        assert_eq!(
            stack.user_status_at(&stack.kanban_url, &valid.token).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn without_its_feed_kanban_serves_for_the_staleness_bound_then_503_with_redis() {
    let mut redis = RedisServer::start().await;
    let stack = spawn_stack_custom(
        Some(redis.url.clone()),
        vec![("KANBAN_REVOCATION_STALENESS", STALENESS.into())],
    )
    .await;
    let revoked = stack.user("Rex", "Revoked", "rex@mail.com").await;
    let valid = stack.user("Val", "Valid", "val@mail.com").await;
    stack.auth_post("/api/v1/auth/logout", &revoked.token).await;
    refused_everywhere_within(&stack, &revoked.token, WITHIN, "logout").await;
    redis.stop();
    let served = served_until_stale(&stack, &revoked, &valid).await;
    assert!(served >= Duration::from_secs(1), "stale after {served:?}");
    // The feed comes back (empty): valid tokens work again, the revoked
    // one stays refused.
    redis.start_again().await;
    let back = never_accepted_while(&stack, &revoked, &valid, Duration::from_secs(10)).await;
    assert!(back.is_some(), "valid tokens work again once Redis is back");
}

/// A JWKS in front of the account manager's that can be made to fail, and
/// counts what it is asked.
struct FlakyJwks {
    url: String,
    failing: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
}

async fn flaky_jwks(upstream: String) -> FlakyJwks {
    use poem::{EndpointExt, Route, get, handler, web::Data};
    #[derive(Clone)]
    struct Shared {
        upstream: String,
        failing: Arc<AtomicBool>,
        hits: Arc<AtomicUsize>,
    }
    #[handler]
    async fn jwks(shared: Data<&Shared>) -> poem::Response {
        shared.hits.fetch_add(1, Ordering::SeqCst);
        if shared.failing.load(Ordering::SeqCst) {
            return poem::Response::builder()
                .status(poem::http::StatusCode::INTERNAL_SERVER_ERROR)
                .finish();
        }
        let body = reqwest::get(&shared.upstream)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        poem::Response::builder()
            .content_type("application/json")
            .body(body)
    }
    let shared = Shared {
        upstream,
        failing: Arc::new(AtomicBool::new(false)),
        hits: Arc::new(AtomicUsize::new(0)),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let acceptor = poem::listener::TcpListener::bind(format!("127.0.0.1:{port}"));
    let app = Route::new().at("/jwks", get(jwks)).data(shared.clone());
    tokio::spawn(poem::Server::new(acceptor).run(app));
    tokio::time::sleep(Duration::from_millis(100)).await;
    FlakyJwks {
        url: format!("http://127.0.0.1:{port}/jwks"),
        failing: shared.failing,
        hits: shared.hits,
    }
}

#[tokio::test]
async fn a_failing_key_source_is_asked_at_a_bounded_rate_and_the_last_good_keys_keep_working() {
    // The account manager's URL is only known once it runs: a first stack
    // tells it, the real one is built against the same JWKS path shape.
    let probe = spawn_stack().await;
    let jwks = flaky_jwks(format!("{}/.well-known/jwks.json", probe.auth_url)).await;
    let mut stack = probe;
    let mut overrides = vec![
        ("KANBAN_AUTH_JWKS_URL", jwks.url.clone()),
        ("KANBAN_JWKS_MIN_REFETCH", "2".to_owned()),
    ];
    stack.set_kanban_extra(std::mem::take(&mut overrides));
    stack.kanban_url = stack.spawn_kanban().await;
    let user = stack.user("Kay", "Keys", "kay@mail.com").await;
    assert_eq!(
        stack.user_status_at(&stack.kanban_url, &user.token).await,
        StatusCode::OK
    );

    jwks.failing.store(true, Ordering::SeqCst);
    jwks.hits.store(0, Ordering::SeqCst);
    let started = Instant::now();
    let (header, rest) = user.token.split_once('.').unwrap();
    let mut header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    for n in 0..200 {
        header["kid"] = json!(format!("made-up-{n}"));
        let forged = format!(
            "{}.{rest}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap())
        );
        let status = stack.user_status_at(&stack.kanban_url, &forged).await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}"
        );
    }
    let hits = jwks.hits.load(Ordering::SeqCst);
    let allowed = 1 + started.elapsed().as_secs() as usize / 2 + 1;
    assert!(hits <= allowed, "{hits} JWKS fetches for 200 unknown kids");
    assert_eq!(
        stack.user_status_at(&stack.kanban_url, &user.token).await,
        StatusCode::OK,
        "the last good keys keep verifying"
    );
}

#[tokio::test]
async fn patch_user_with_a_token_revoked_at_the_account_manager_is_401() {
    let stack = spawn_stack().await;
    let user = stack.user("Pat", "Patch", "pat@mail.com").await;
    stack.auth_post("/api/v1/auth/logout", &user.token).await;
    let answer = expect(
        stack
            .patch("/user", &user, json!({"first_name": "New"}))
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(answer["msg"], "Authentication failed");
}
