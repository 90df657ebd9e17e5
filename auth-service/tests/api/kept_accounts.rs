//! `me` answers from accounts kept in memory: every change of what it
//! shows is answered at once by the replica that made it, and heard by the
//! others through the revocation feed; a change made to the database by
//! hand shows once the kept copy ages out.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    SmtpSink, TestApp, TestDatabase, expect, link_token, settings_for, spawn_with, with_smtp,
};

const MAIL_WAIT: Duration = Duration::from_secs(10);
/// How long a replica may take to hear another's change (the feed's
/// polling of the database when there is no Redis is once a second).
const HEARD_WITHIN: Duration = Duration::from_secs(5);

/// Settings keeping accounts far longer than any test runs, so that only a
/// change heard can explain a fresh answer.
fn keeping(db: &TestDatabase) -> auth_service::Settings {
    let mut settings = settings_for(db);
    settings.account_cache_ttl = Duration::from_secs(600);
    settings
}

fn token(session: &Value) -> &str {
    session["token"].as_str().expect("a token")
}

async fn me(app: &TestApp, session: &Value) -> Value {
    expect(app.me(token(session)).await, StatusCode::OK).await
}

async fn rename(app: &TestApp, session: &Value, first_name: &str) {
    let answer = app
        .patch_auth(
            "/api/v1/auth/me",
            token(session),
            &json!({"firstName": first_name}),
        )
        .await;
    expect(answer, StatusCode::OK).await;
}

/// Changes the account's role; that ends its sessions, so the answer is a
/// new one (logged in at `app`).
async fn set_role(app: &TestApp, admin: &Value, session: &Value, role: &str) -> Value {
    let id = session["userId"].as_i64().expect("a user id");
    let answer = app
        .patch_auth(
            &format!("/api/v1/admin/users/{id}"),
            token(admin),
            &json!({"role": role}),
        )
        .await;
    let changed = expect(answer, StatusCode::OK).await;
    app.login(changed["email"].as_str().expect("an email"))
        .await
}

/// Asks `app` until `field` of `session`'s `me` reads `value`.
async fn until_shown(app: &TestApp, session: &Value, field: &str, value: &str) {
    let started = Instant::now();
    loop {
        let shown = me(app, session).await;
        if shown[field] == value {
            return;
        }
        assert!(
            started.elapsed() < HEARD_WITHIN,
            "{field} still {} instead of {value}",
            shown[field]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn me_shows_each_change_at_once() {
    let sink = SmtpSink::start().await;
    let db = TestDatabase::fresh().await;
    let app = spawn_with(with_smtp(keeping(&db), sink.port()), db).await;
    let admin = app.register("admin@example.com").await;
    let ann = app.register("ann@example.com").await;
    let kept = me(&app, &ann).await;
    assert_eq!(
        (kept["role"].as_str(), kept["emailVerified"].as_bool()),
        (Some("user"), Some(false))
    );

    rename(&app, &ann, "Annabel").await;
    assert_eq!(me(&app, &ann).await["firstName"], "Annabel");
    let ann = set_role(&app, &admin, &ann, "admin").await;
    assert_eq!(me(&app, &ann).await["role"], "admin");
    let ann = set_role(&app, &admin, &ann, "user").await;
    assert_eq!(me(&app, &ann).await["role"], "user");

    // The verification link, followed while the account is kept.
    let asked = app
        .post(
            "/api/v1/auth/verify-email",
            &json!({"email": "ann@example.com"}),
        )
        .await;
    expect(asked, StatusCode::ACCEPTED).await;
    let link = link_token(&sink.wait_for(1, MAIL_WAIT).await[0]);
    let verified = app
        .get(&format!("/api/v1/auth/verify-email?token={link}"))
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    assert_eq!(me(&app, &ann).await["emailVerified"], true);
}

/// Two replicas on one database (and one Redis feed when the tests have
/// Redis): a change made at either shows at once there, and at the other
/// as soon as its feed brings the fact, though both keep the account.
#[tokio::test]
async fn replicas_hear_each_others_changes() {
    let db = TestDatabase::fresh().await;
    let mut settings = keeping(&db);
    // Replicas share one public URL (the tokens' issuer) and one feed.
    settings.public_url = Some("http://auth.replicas.test".into());
    let one = spawn_with(settings.clone(), db.clone()).await;
    let other = spawn_with(settings, db).await;
    let admin = one.register("admin@example.com").await;
    let ann = one.register("ann@example.com").await;
    for app in [&one, &other] {
        assert_eq!(me(app, &ann).await["firstName"], "");
    }

    rename(&one, &ann, "Ann").await;
    assert_eq!(me(&one, &ann).await["firstName"], "Ann");
    until_shown(&other, &ann, "firstName", "Ann").await;

    rename(&other, &ann, "Annabel").await;
    assert_eq!(me(&other, &ann).await["firstName"], "Annabel");
    until_shown(&one, &ann, "firstName", "Annabel").await;

    let ann = set_role(&other, &admin, &ann, "admin").await;
    until_shown(&one, &ann, "role", "admin").await;
    // Both stay as they are now that nothing changes.
    for app in [&one, &other] {
        let shown = me(app, &ann).await;
        assert_eq!(
            (shown["firstName"].as_str(), shown["role"].as_str()),
            (Some("Annabel"), Some("admin"))
        );
    }
}

/// A change made to the database by hand is not heard: the kept copy is
/// answered until it ages out (`AUTH_ACCOUNT_CACHE_TTL`), then the row. A
/// replica that keeps none answers the row at once.
#[tokio::test]
async fn a_change_made_by_hand_shows_when_the_copy_ages_out() {
    let ttl = Duration::from_secs(2);
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.public_url = Some("http://auth.replicas.test".into());
    settings.account_cache_ttl = ttl;
    let app = spawn_with(settings.clone(), db.clone()).await;
    settings.account_cache_entries = 0;
    let keeping_none = spawn_with(settings, db.clone()).await;
    let ann = app.register("ann@example.com").await;
    let id = ann["userId"].as_i64().unwrap();
    let kept_at = Instant::now();
    assert_eq!(me(&app, &ann).await["firstName"], "");

    db.execute(&format!(
        "UPDATE users SET first_name = 'By hand' WHERE id = {id}"
    ))
    .await;
    assert_eq!(me(&keeping_none, &ann).await["firstName"], "By hand");
    let kept = me(&app, &ann).await;
    if kept_at.elapsed() < ttl / 2 {
        assert_eq!(kept["firstName"], "", "the kept copy is answered");
    }
    let started = Instant::now();
    while me(&app, &ann).await["firstName"] != "By hand" {
        assert!(started.elapsed() < ttl * 3, "the copy never aged out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
