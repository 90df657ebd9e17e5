//! Rate limits on the sign-in routes: 429 with `Retry-After` and the
//! `RateLimit-Policy` / `RateLimit` headers in the route's error shape,
//! windows that reset, counters shared by replicas through Redis (one
//! server, Sentinel or Cluster), forwarded headers honoured only from
//! trusted proxies, and owners never locked out by guesses from elsewhere.

use std::time::Duration;

use auth_service::throttle::Limit;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, RedisServer, TestApp, TestDatabase, generous_limits, settings_for, spawn_with,
};
use shared::testing::{RedisCluster, RedisSentinels};

fn limit(count: u32, seconds: u64) -> Limit {
    Limit {
        count,
        window: Duration::from_secs(seconds),
    }
}

async fn app_with(configure: impl FnOnce(&mut auth_service::Settings)) -> TestApp {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    configure(&mut settings);
    spawn_with(settings, db).await
}

async fn post_from(
    app: &TestApp,
    path: &str,
    body: &Value,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).json(body);
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    request.send().await.unwrap()
}

/// Asserts a 429 of `policy` with its headers and body.
async fn assert_limited(response: reqwest::Response, policy: &str, count: u32, window: u64) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{policy}");
    let headers = response.headers().clone();
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        (1..=window).contains(&retry_after),
        "{policy}: Retry-After {retry_after}"
    );
    assert_eq!(
        headers["ratelimit-policy"],
        format!("\"{policy}\";q={count};w={window}").as_str()
    );
    assert_eq!(
        headers["ratelimit"],
        format!("\"{policy}\";r=0;t={retry_after}").as_str()
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert!(body["msg"].is_string() && body["humanMsg"].is_string());
}

#[tokio::test]
async fn each_limited_route_answers_429_past_its_limit() {
    let app = app_with(|settings| {
        settings.limits.login = limit(3, 60);
        settings.limits.register = limit(2, 60);
        settings.limits.refresh = limit(2, 60);
        settings.limits.recovery = limit(2, 60);
    })
    .await;
    let ann = app.register("ann@example.com").await;
    app.register("bob@example.com").await;
    let third = json!({"email": "cy@example.com", "password": PASSWORD, "password2": PASSWORD});
    assert_limited(
        post_from(&app, "/api/v1/register/email", &third, None).await,
        "register",
        2,
        60,
    )
    .await;

    // Logins and reactivations share the per-address limit.
    let login = json!({"email": "ann@example.com", "password": PASSWORD});
    assert_eq!(
        post_from(&app, "/api/v1/login/email", &login, None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        post_from(&app, "/api/v1/auth/login/email", &login, None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        post_from(&app, "/api/v1/reactivate/email", &login, None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_limited(
        post_from(&app, "/api/v1/login/email", &login, None).await,
        "login",
        3,
        60,
    )
    .await;
    assert_limited(
        post_from(&app, "/api/v1/auth/reactivate", &login, None).await,
        "login",
        3,
        60,
    )
    .await;

    let refresh = json!({"refreshToken": ann["refreshToken"]});
    for _ in 0..2 {
        post_from(&app, "/api/v1/auth/token/refresh", &refresh, None).await;
    }
    assert_limited(
        post_from(&app, "/api/v1/auth/token/refresh", &refresh, None).await,
        "refresh",
        2,
        60,
    )
    .await;

    let forgot = json!({"email": "ann@example.com"});
    for _ in 0..2 {
        let answer = post_from(&app, "/api/v1/auth/forgot-password", &forgot, None).await;
        assert_eq!(answer.status(), StatusCode::ACCEPTED);
    }
    assert_limited(
        post_from(&app, "/api/v1/auth/forgot-password", &forgot, None).await,
        "recovery",
        2,
        60,
    )
    .await;
    let resend = json!({"email": "ann@example.com"});
    assert_limited(
        post_from(&app, "/api/v1/auth/verify-email", &resend, None).await,
        "recovery",
        2,
        60,
    )
    .await;

    // Token checks are never limited.
    assert_eq!(
        app.me(ann["token"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_limit_resets_after_its_window_and_ignores_spoofed_forwarding() {
    let app = app_with(|settings| settings.limits.login = limit(2, 1)).await;
    app.register("ann@example.com").await;
    let login = json!({"email": "ann@example.com", "password": PASSWORD});
    for n in 0..2 {
        // A forwarded address from an untrusted peer is not the key.
        let spoofed = format!("198.51.100.{n}");
        let answer = post_from(&app, "/api/v1/login/email", &login, Some(&spoofed)).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let spoofed = post_from(&app, "/api/v1/login/email", &login, Some("203.0.113.77")).await;
    assert_limited(spoofed, "login", 2, 1).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        post_from(&app, "/api/v1/login/email", &login, None)
            .await
            .status(),
        StatusCode::OK
    );
}

/// Two replicas on the Redis at `redis_url` count together: the per-address
/// login limit (an atomic INCR/PEXPIRE/PTTL) and the wrong passwords per
/// (account, address) (checked with GET/PTTL before they are counted).
async fn replicas_share_their_counters(redis_url: &str) {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let db = TestDatabase::fresh().await;
    let replica = |db: TestDatabase| {
        let mut settings = settings_for(&db);
        settings.redis_url = Some(redis_url.to_owned());
        settings.redis_prefix = prefix.clone();
        settings.public_url = Some("http://auth.replicas.test".into());
        settings.limits = generous_limits();
        settings.limits.login = limit(6, 60);
        settings.limits.login_failure = limit(2, 300);
        spawn_with(settings, db)
    };
    let one = replica(db.clone()).await;
    let other = replica(db).await;
    one.register("ann@example.com").await;
    one.register("bob@example.com").await;
    let guess = json!({"email": "ann@example.com", "password": "not-the-password-1"});
    for app in [&one, &other] {
        assert_eq!(
            post_from(app, "/api/v1/login/email", &guess, None)
                .await
                .status(),
            StatusCode::BAD_REQUEST
        );
    }
    // Two failures, one at each replica: even the right password waits.
    let ann = json!({"email": "ann@example.com", "password": PASSWORD});
    for app in [&one, &other] {
        assert_limited(
            post_from(app, "/api/v1/login/email", &ann, None).await,
            "login-failures",
            2,
            300,
        )
        .await;
    }
    // Four logins so far from this address; two more are allowed.
    let bob = json!({"email": "bob@example.com", "password": PASSWORD});
    for app in [&one, &other] {
        assert_eq!(
            post_from(app, "/api/v1/login/email", &bob, None)
                .await
                .status(),
            StatusCode::OK
        );
    }
    for app in [&one, &other] {
        assert_limited(
            post_from(app, "/api/v1/login/email", &bob, None).await,
            "login",
            6,
            60,
        )
        .await;
    }
}

#[tokio::test]
async fn replicas_on_one_redis_share_their_counters() {
    let redis = RedisServer::start().await;
    replicas_share_their_counters(&redis.url).await;
}

#[tokio::test]
async fn replicas_share_their_counters_over_redis_sentinel() {
    let sentinels = RedisSentinels::start(1).await;
    replicas_share_their_counters(&sentinels.url).await;
}

#[tokio::test]
async fn replicas_share_their_counters_over_redis_cluster() {
    let cluster = RedisCluster::start().await;
    replicas_share_their_counters(&cluster.url).await;
}

/// 200 wrong passwords for one account from 20 addresses (behind a trusted
/// proxy), then its owner logs in from an address that has not failed.
#[tokio::test]
async fn guesses_from_many_addresses_never_lock_the_owner_out() {
    let app = app_with(|settings| {
        settings.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        settings.limits.login = limit(30, 60);
        settings.limits.login_failure = limit(5, 300);
    })
    .await;
    app.register("ann@example.com").await;
    let guess = json!({"email": "ann@example.com", "password": "not-the-password-1"});
    let mut refused = 0;
    for n in 0..200 {
        let address = format!("10.0.0.{}", n % 20);
        let answer = post_from(&app, "/api/v1/login/email", &guess, Some(&address)).await;
        match answer.status() {
            StatusCode::BAD_REQUEST => {}
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("guess {n}: {other}"),
        }
    }
    // Five wrong passwords per address, then each address is refused
    // before its password is even checked.
    assert_eq!(refused, 200 - 20 * 5);
    let owner = json!({"email": "ann@example.com", "password": PASSWORD});
    let answer = post_from(&app, "/api/v1/login/email", &owner, Some("192.0.2.10")).await;
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "the owner from a clean address"
    );
    // From an address that guessed, even the right password waits.
    let answer = post_from(&app, "/api/v1/login/email", &owner, Some("10.0.0.3")).await;
    assert_limited(answer, "login-failures", 5, 300).await;
    // Another account from a guessing address is not affected.
    app.register("bob@example.com").await;
    let bob = json!({"email": "bob@example.com", "password": PASSWORD});
    let answer = post_from(&app, "/api/v1/login/email", &bob, Some("10.0.0.3")).await;
    assert_eq!(answer.status(), StatusCode::OK);
}
