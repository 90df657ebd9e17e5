//! RFC 7662 introspection, RFC 7009 revocation, the revocation feed and
//! signing-key changes, at the account manager.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_ID, RedisServer, TestApp, TestDatabase, expect,
    header_of, settings_for, spawn_app, spawn_with,
};

async fn oauth(
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
    basic: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).form(form);
    if let Some(client) = basic {
        request = request.basic_auth(client, Some(CLIENT_SECRET));
    }
    request.send().await.unwrap()
}

async fn introspect(app: &TestApp, token: &str) -> Value {
    expect(
        oauth(
            app,
            "/api/v1/oauth/introspect",
            &[("token", token)],
            Some(CLIENT_ID),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

async fn service_token(app: &TestApp, client: &str) -> String {
    let answer = expect(
        app.post(
            "/api/v1/auth/token/service",
            &serde_json::json!({"clientId": client, "clientSecret": CLIENT_SECRET}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    answer["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn introspection_describes_live_tokens_and_nothing_else() {
    let app = spawn_app().await;
    let session = app.register("ann@example.com").await;
    let access = session["token"].as_str().unwrap();
    let refresh = session["refreshToken"].as_str().unwrap();

    let answer = introspect(&app, access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "access_token");
    assert_eq!(answer["sub"], session["userId"].to_string());
    assert_eq!(answer["email"], "ann@example.com");
    assert!(answer["exp"].as_i64().unwrap() > answer["iat"].as_i64().unwrap());

    // client_secret_post works as well as HTTP Basic.
    let posted = expect(
        oauth(
            &app,
            "/api/v1/oauth/introspect",
            &[
                ("token", refresh),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ],
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(posted["active"], true);
    assert_eq!(posted["token_type"], "refresh_token");
    assert_eq!(posted["sid"], crate::helpers::claims_of(access)["sid"]);

    // Rotated refresh tokens and logged-out access tokens are inactive.
    expect(app.refresh(refresh).await, StatusCode::OK).await;
    assert_eq!(
        introspect(&app, refresh).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        app.post_auth("/api/v1/auth/logout", access).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        introspect(&app, access).await,
        serde_json::json!({"active": false})
    );
    for garbage in ["garbage", "a.b.c", ""] {
        if garbage.is_empty() {
            let answer = oauth(
                &app,
                "/api/v1/oauth/introspect",
                &[("token", "")],
                Some(CLIENT_ID),
            )
            .await;
            assert_eq!(
                expect(answer, StatusCode::BAD_REQUEST).await["error"],
                "invalid_request"
            );
        } else {
            assert_eq!(introspect(&app, garbage).await["active"], false);
        }
    }

    // A service token is described to its own client only.
    let own = service_token(&app, CLIENT_ID).await;
    let answer = introspect(&app, &own).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], CLIENT_ID);
    assert_eq!(
        answer["scope"],
        "users:read revocations:read sessions:extended"
    );
    let others = service_token(&app, OTHER_CLIENT_ID).await;
    assert_eq!(introspect(&app, &others).await["active"], false);
}

#[tokio::test]
async fn the_oauth_endpoints_refuse_unknown_clients() {
    let app = spawn_app().await;
    let session = app.register("ann@example.com").await;
    let access = session["token"].as_str().unwrap();
    for path in ["/api/v1/oauth/introspect", "/api/v1/oauth/revoke"] {
        let wrong = app
            .client
            .post(app.url(path))
            .basic_auth(CLIENT_ID, Some("not-the-secret-at-all"))
            .form(&[("token", access)])
            .send()
            .await
            .unwrap();
        assert!(
            wrong.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        assert_eq!(
            expect(wrong, StatusCode::UNAUTHORIZED).await["error"],
            "invalid_client"
        );
        let none = oauth(&app, path, &[("token", access)], None).await;
        expect(none, StatusCode::UNAUTHORIZED).await;
    }
    // Nothing was revoked by the refused calls.
    expect(app.me(access).await, StatusCode::OK).await;
}

#[tokio::test]
async fn revocation_kills_what_it_is_given_and_only_a_clients_own_service_tokens() {
    let app = spawn_app().await;
    let first = app.register("ann@example.com").await;
    let second = app.login("ann@example.com").await;

    // An access token dies alone.
    let access = first["token"].as_str().unwrap();
    expect(
        oauth(
            &app,
            "/api/v1/oauth/revoke",
            &[("token", access), ("token_type_hint", "access_token")],
            Some(CLIENT_ID),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect(app.me(access).await, StatusCode::UNAUTHORIZED).await;
    expect(
        app.refresh(first["refreshToken"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;

    // A refresh token ends its whole session.
    let refresh = second["refreshToken"].as_str().unwrap();
    expect(
        oauth(
            &app,
            "/api/v1/oauth/revoke",
            &[("token", refresh)],
            Some(CLIENT_ID),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect(app.refresh(refresh).await, StatusCode::UNAUTHORIZED).await;
    expect(
        app.me(second["token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Unknown tokens: 200, as RFC 7009 asks.
    expect(
        oauth(
            &app,
            "/api/v1/oauth/revoke",
            &[("token", "nothing-like-a-token")],
            Some(CLIENT_ID),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // Another client's service token is refused and keeps working.
    let theirs = service_token(&app, OTHER_CLIENT_ID).await;
    let refused = oauth(
        &app,
        "/api/v1/oauth/revoke",
        &[("token", &theirs)],
        Some(CLIENT_ID),
    )
    .await;
    assert_eq!(
        expect(refused, StatusCode::BAD_REQUEST).await["error"],
        "unauthorized_client"
    );
    let other_view = app
        .client
        .post(app.url("/api/v1/oauth/introspect"))
        .basic_auth(OTHER_CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("token", theirs.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(expect(other_view, StatusCode::OK).await["active"], true);

    // A client's own service token dies.
    let mine = service_token(&app, CLIENT_ID).await;
    let lookup = |token: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/api/v1/users/lookup?email=ann@example.com"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(lookup(mine.clone()).await, StatusCode::OK);
    expect(
        oauth(
            &app,
            "/api/v1/oauth/revoke",
            &[("token", &mine)],
            Some(CLIENT_ID),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(lookup(mine).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn discovery_names_the_rfc_endpoints() {
    let app = spawn_app().await;
    let discovery = expect(
        app.get("/.well-known/openid-configuration").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        discovery["introspection_endpoint"],
        app.url("/api/v1/oauth/introspect")
    );
    assert_eq!(
        discovery["revocation_endpoint"],
        app.url("/api/v1/oauth/revoke")
    );
}

async fn feed(app: &TestApp, query: &str, client: &str) -> reqwest::Response {
    let token = service_token(app, client).await;
    app.client
        .get(app.url(&format!("/api/v1/revocations/feed{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_http_feed_answers_a_snapshot_then_long_polls_for_new_facts() {
    let app = spawn_app().await;
    expect(feed(&app, "", OTHER_CLIENT_ID).await, StatusCode::FORBIDDEN).await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ann_token = ann["token"].as_str().unwrap().to_owned();
    app.post_auth("/api/v1/auth/logout", &ann_token).await;

    let snapshot = expect(feed(&app, "", CLIENT_ID).await, StatusCode::OK).await;
    assert_eq!(snapshot["reset"], true);
    let facts = snapshot["facts"].as_array().unwrap();
    let sid = crate::helpers::claims_of(&ann_token)["sid"].clone();
    assert!(
        facts
            .iter()
            .any(|f| f["kind"] == "session" && f["subject"] == sid)
    );
    let generation = snapshot["generation"].as_str().unwrap().to_owned();
    let cursor = snapshot["cursor"].as_str().unwrap().to_owned();

    // Nothing new: the long poll waits, then answers empty.
    let started = Instant::now();
    let quiet = expect(
        feed(
            &app,
            &format!("?generation={generation}&after={cursor}&waitMs=300"),
            CLIENT_ID,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(quiet["reset"], false);
    assert_eq!(quiet["facts"].as_array().unwrap().len(), 0);

    // A logout during a long poll answers it at once.
    let token = service_token(&app, CLIENT_ID).await;
    let poll = app
        .client
        .get(app.url(&format!(
            "/api/v1/revocations/feed?generation={generation}&after={cursor}&waitMs=10000"
        )))
        .bearer_auth(token)
        .send();
    let bob_token = bob["token"].as_str().unwrap().to_owned();
    let logout = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.post_auth("/api/v1/auth/logout/all", &bob_token).await
    };
    let started = Instant::now();
    let (answer, _) = tokio::join!(poll, logout);
    let answer: Value = answer.unwrap().json().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let facts = answer["facts"].as_array().unwrap();
    let bob_id = bob["userId"].to_string();
    assert!(
        facts
            .iter()
            .any(|f| f["kind"] == "notBefore" && f["subject"].as_str() == Some(bob_id.as_str()))
    );

    // Another generation: a snapshot again.
    let other = expect(
        feed(&app, &format!("?generation=old&after={cursor}"), CLIENT_ID).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(other["reset"], true);
}

#[tokio::test]
async fn the_next_key_is_published_before_it_signs_and_concurrent_rotations_leave_one_signer() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let token = admin["token"].as_str().unwrap().to_owned();
    let before = expect(app.get("/.well-known/jwks.json").await, StatusCode::OK).await;
    let published: Vec<String> = before["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(published.len(), 2, "the signing key and the next one");
    let rotated = expect(
        app.post_auth("/api/v1/admin/signing-keys/rotate", &token)
            .await,
        StatusCode::OK,
    )
    .await;
    let kid = rotated["kid"].as_str().unwrap();
    assert!(
        published.iter().any(|p| p == kid),
        "{kid} was published before it signed"
    );
    assert_ne!(header_of(&token)["kid"], kid);

    let rotations = (0..10).map(|_| app.post_auth("/api/v1/admin/signing-keys/rotate", &token));
    let mut answered = Vec::new();
    for response in futures::future::join_all(rotations).await {
        answered.push(
            expect(response, StatusCode::OK).await["kid"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    answered.sort();
    answered.dedup();
    assert_eq!(
        answered.len(),
        10,
        "each rotation activated a key of its own"
    );
    let fresh = app.login("admin@example.com").await;
    let signing = header_of(fresh["token"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(answered.contains(&signing));
    let rows = sea_orm::Database::connect(&app.db.url).await.unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let active = rows
        .query_one_raw(Statement::from_string(
            rows.get_database_backend(),
            "SELECT COUNT(*) AS n FROM signing_keys WHERE activated_at IS NOT NULL AND retired_at IS NULL AND revoked_at IS NULL",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(active, 1, "exactly one key signs");
}

#[tokio::test]
async fn with_redis_revocations_survive_a_restart_of_redis_without_persistence() {
    let mut redis = RedisServer::start().await;
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.redis_url = Some(redis.url.clone());
    let app = spawn_with(settings, db).await;
    let gone = app.register("gone@example.com").await;
    let kept = app.register("kept@example.com").await;
    let gone_token = gone["token"].as_str().unwrap();
    app.post_auth("/api/v1/auth/logout", gone_token).await;
    expect(app.me(gone_token).await, StatusCode::UNAUTHORIZED).await;

    redis.restart_empty().await;
    let started = Instant::now();
    let mut back = None;
    while started.elapsed() < Duration::from_secs(8) {
        let status = app.me(gone_token).await.status();
        assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::SERVICE_UNAVAILABLE);
        let validated = app.validate(gone_token).await;
        if validated.status() == StatusCode::OK {
            assert_eq!(validated.json::<Value>().await.unwrap()["isValid"], false);
        }
        if back.is_none()
            && app.me(kept["token"].as_str().unwrap()).await.status() == StatusCode::OK
        {
            back = Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back.is_some_and(|b| b < Duration::from_secs(8)));
    // The feed in Redis was seeded again from SQL.
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*generation")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
}

/// The database is recreated (or restored from a backup) while Redis keeps
/// the old database's feed: the account manager notices the feed is not
/// its database's, seeds it again, and replicas see new revocations.
#[tokio::test]
async fn a_redis_feed_of_another_database_is_replaced() {
    let redis = RedisServer::start().await;
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let on_redis = |db: &TestDatabase| {
        let mut settings = settings_for(db);
        settings.redis_url = Some(redis.url.clone());
        settings.redis_prefix = prefix.clone();
        // Replicas share one public URL: the tokens' issuer.
        settings.public_url = Some("http://auth.replicas.test".into());
        settings
    };
    // The first database publishes a few facts.
    let old = TestDatabase::fresh().await;
    let first = spawn_with(on_redis(&old), old.clone()).await;
    for n in 0..3 {
        let user = first.register(&format!("old{n}@example.com")).await;
        let logout = first
            .post_auth("/api/v1/auth/logout", user["token"].as_str().unwrap())
            .await;
        assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    }
    first.stop().await;

    // A new, empty database behind two replicas, on the same Redis.
    let new = TestDatabase::fresh().await;
    let one = spawn_with(on_redis(&new), new.clone()).await;
    let other = spawn_with(on_redis(&new), new.clone()).await;
    let ann = one.register("ann@example.com").await;
    let token = ann["token"].as_str().unwrap();
    assert_eq!(other.me(token).await.status(), StatusCode::OK);
    let logout = one.post_auth("/api/v1/auth/logout", token).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let started = Instant::now();
    while other.me(token).await.status() != StatusCode::UNAUTHORIZED {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the other replica still accepts a revoked token"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
