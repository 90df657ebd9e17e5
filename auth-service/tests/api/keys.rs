use std::time::Duration;

use auth_service::tokens::keys::KeyRing;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestDatabase, expect, header_of, settings_for, spawn_app, spawn_with};

/// Verifies a token the way any third party would: JWKS by `kid`, standard JWT checks.
async fn verify_with_jwks(app_url: &str, jwks_base: &str, token: &str) -> Value {
    let jwks: JwkSet = reqwest::get(format!("{jwks_base}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = header_of(token)["kid"].as_str().unwrap().to_owned();
    let jwk = jwks.find(&kid).expect("the token's kid is published");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["api"]);
    validation.set_issuer(&[app_url]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn access_tokens_verify_against_the_published_jwks() {
    let app = spawn_app().await;
    let session = app.register("ann@example.com").await;
    let claims = verify_with_jwks(
        &app.address,
        &app.address,
        session["token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(claims["sub"], "1");

    let discovery = expect(
        app.get("/.well-known/openid-configuration").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(discovery["issuer"], app.address);
    assert_eq!(
        discovery["jwks_uri"],
        format!("{}/.well-known/jwks.json", app.address)
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"][0],
        "EdDSA"
    );
}

#[tokio::test]
async fn a_restarted_service_accepts_the_tokens_it_issued_before() {
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.public_url = Some("http://auth.test".into());
    let first = spawn_with(settings.clone(), db.clone()).await;
    let session = first.register("ann@example.com").await;
    let jwks_before = expect(first.get("/.well-known/jwks.json").await, StatusCode::OK).await;
    first.stop().await;

    let second = spawn_with(settings, db).await;
    let jwks_after = expect(second.get("/.well-known/jwks.json").await, StatusCode::OK).await;
    assert_eq!(jwks_before, jwks_after);
    expect(
        second.me(session["token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    expect(
        second
            .refresh(session["refreshToken"].as_str().unwrap())
            .await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn rotation_signs_with_a_new_key_and_keeps_the_old_one_published() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let user = app.register("user@example.com").await;
    let admin_token = admin["token"].as_str().unwrap();
    let old_kid = header_of(admin_token)["kid"].as_str().unwrap().to_owned();

    let refused = app
        .post_auth(
            "/api/v1/admin/signing-keys/rotate",
            user["token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        expect(refused, StatusCode::FORBIDDEN).await["msg"],
        "Forbidden: Admin role required."
    );

    let rotated = expect(
        app.post_auth("/api/v1/admin/signing-keys/rotate", admin_token)
            .await,
        StatusCode::OK,
    )
    .await;
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);

    let jwks = expect(app.get("/.well-known/jwks.json").await, StatusCode::OK).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );

    // Old tokens still verify; new tokens carry the new kid and verify.
    expect(app.me(admin_token).await, StatusCode::OK).await;
    let fresh = app.login("user@example.com").await;
    let fresh_token = fresh["token"].as_str().unwrap();
    assert_eq!(header_of(fresh_token)["kid"], new_kid.as_str());
    expect(app.me(fresh_token).await, StatusCode::OK).await;
    verify_with_jwks(&app.address, &app.address, fresh_token).await;
    verify_with_jwks(&app.address, &app.address, admin_token).await;
}

/// Four replicas starting at once on one empty database: migrations run
/// once (under an advisory lock), and every replica becomes ready, serves
/// the same JWKS (one signing key, one next key) and accepts the others'
/// tokens. PostgreSQL only: a SQLite file has one process.
#[tokio::test]
async fn replicas_starting_at_once_share_one_schema_and_one_signing_key() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        return;
    }
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.public_url = Some("http://auth.test".into());
    let apps =
        futures::future::join_all((0..4).map(|_| spawn_with(settings.clone(), db.clone()))).await;
    let mut documents = Vec::new();
    for app in &apps {
        expect(app.get("/readyz").await, StatusCode::OK).await;
        documents.push(expect(app.get("/.well-known/jwks.json").await, StatusCode::OK).await);
    }
    assert_eq!(
        documents[0]["keys"].as_array().unwrap().len(),
        2,
        "one signing key and one next key: {}",
        documents[0]
    );
    assert!(documents.iter().all(|jwks| *jwks == documents[0]));
    let session = apps[0].register("ann@example.com").await;
    let token = session["token"].as_str().unwrap();
    for app in &apps {
        expect(app.me(token).await, StatusCode::OK).await;
    }
}

/// Key rings loaded at once on separate connections from a database with
/// no key yet create the first signing key and its successor once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_rings_loaded_at_once_create_the_first_keys_once() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        return;
    }
    let db = TestDatabase::fresh().await;
    let mut pools = Vec::new();
    for _ in 0..8 {
        pools.push(auth_service::store::connect(&db.url, 2).await.unwrap());
    }
    let rings = futures::future::join_all(
        pools
            .into_iter()
            .map(|pool| tokio::spawn(KeyRing::from_database(pool, Duration::from_secs(960)))),
    )
    .await;
    let rings: Vec<KeyRing> = rings
        .into_iter()
        .map(|ring| ring.unwrap().unwrap())
        .collect();
    let jwks = rings[0].jwks();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
    for ring in &rings {
        assert_eq!(ring.signing_kid(), rings[0].signing_kid());
        assert_eq!(ring.jwks(), jwks);
    }
}
