//! Password reset and email verification by mail, delivered to a real SMTP
//! server on a local socket (or to the outbox folder): links work once,
//! expire and are voided by newer ones; tokens are stored only as hashes
//! and never logged; unknown addresses get the same answer and no mail.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{
    LogCapture, PASSWORD, SmtpSink, TestApp, TestDatabase, expect, link_token, mail_text,
    settings_for, spawn_app, spawn_with, with_smtp,
};

const MAIL_WAIT: Duration = Duration::from_secs(10);
const NEW_PASSWORD: &str = "a brand new passphrase";

async fn smtp_app(configure: impl FnOnce(&mut auth_service::Settings)) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let db = TestDatabase::fresh().await;
    let mut settings = with_smtp(settings_for(&db), sink.port());
    configure(&mut settings);
    (spawn_with(settings, db).await, sink)
}

async fn forgot(app: &TestApp, email: &str) -> Value {
    let answer = app
        .post("/api/v1/auth/forgot-password", &json!({"email": email}))
        .await;
    expect(answer, StatusCode::ACCEPTED).await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/reset-password",
        &json!({"token": token, "password": password, "password2": password}),
    )
    .await
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_mailed_link_resets_the_password_once() {
    let logs = LogCapture::install();
    let (app, sink) = smtp_app(|_| {}).await;
    let before = app.register("ann@example.com").await;

    // An unknown address: the same answer, and no mail.
    let unknown = forgot(&app, "nobody@example.com").await;
    let known = forgot(&app, "ann@example.com").await;
    assert_eq!(unknown, known);
    let mails = sink.wait_for(1, MAIL_WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "one mail, for the known address");
    let mail = mail_text(&mails[0]);
    assert!(mail.contains("To: ann@example.com"), "{mail}");
    assert!(mail.contains("Subject: Reset your password"));
    assert!(mail.contains("Content-Type: text/html"), "an HTML part too");
    let token = link_token(&mails[0]);
    assert!(mail.contains(&format!("{}/reset-password?token={token}", app.address)));

    // Stored only as a hash.
    let stored = app
        .db
        .strings("SELECT token_hash FROM account_tokens")
        .await;
    assert_eq!(stored, vec![sha256_hex(&token)]);

    assert_eq!(
        reset(&app, &token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    // Every session ended; the new password works, the old one not.
    assert_eq!(
        app.me(before["token"].as_str().unwrap()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refresh = app.refresh(before["refreshToken"].as_str().unwrap()).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login_with("ann@example.com", PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.login_with("ann@example.com", NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );

    // Single use.
    let again = reset(&app, &token, "yet another passphrase").await;
    assert_eq!(
        expect(again, StatusCode::BAD_REQUEST).await["code"],
        "invalid_link_token"
    );
    let forged = reset(&app, "not-a-real-token", "yet another passphrase").await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);

    // The link reached the address: it counts as verified.
    let ann = app.login_with("ann@example.com", NEW_PASSWORD).await;
    let ann = expect(ann, StatusCode::OK).await;
    let profile = expect(app.me(ann["token"].as_str().unwrap()).await, StatusCode::OK).await;
    assert_eq!(profile["emailVerified"], true);

    // No token ever reached a log line.
    let logged = logs.text();
    assert!(!logged.contains(&token), "the reset token was logged");
    assert!(logged.contains("password reset requested"));
}

#[tokio::test]
async fn a_newer_link_or_a_password_change_voids_the_older_one() {
    let (app, sink) = smtp_app(|_| {}).await;
    let ann = app.register("ann@example.com").await;
    forgot(&app, "ann@example.com").await;
    let first = link_token(&sink.wait_for(1, MAIL_WAIT).await[0]);
    forgot(&app, "ann@example.com").await;
    let second = link_token(&sink.wait_for(2, MAIL_WAIT).await[1]);
    assert_ne!(first, second);
    assert_eq!(
        reset(&app, &first, NEW_PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );

    // A password change voids the live link too.
    let change = app
        .post_json_auth(
            "/api/v1/auth/password",
            ann["token"].as_str().unwrap(),
            &json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "newPassword2": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(change.status(), StatusCode::OK);
    assert_eq!(
        reset(&app, &second, "yet another passphrase")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_reset_link_expires() {
    let (app, sink) =
        smtp_app(|settings| settings.accounts.reset_ttl = Duration::from_secs(1)).await;
    app.register("ann@example.com").await;
    forgot(&app, "ann@example.com").await;
    let token = link_token(&sink.wait_for(1, MAIL_WAIT).await[0]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let late = reset(&app, &token, NEW_PASSWORD).await;
    assert_eq!(
        expect(late, StatusCode::BAD_REQUEST).await["code"],
        "invalid_link_token"
    );
    assert_eq!(
        app.login_with("ann@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_a_relay_mail_goes_to_the_outbox_folder() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    forgot(&app, "ann@example.com").await;
    let outbox = app.db.dir.join("outbox");
    let deadline = tokio::time::Instant::now() + MAIL_WAIT;
    let mail = loop {
        let files: Vec<_> = std::fs::read_dir(&outbox)
            .map(|dir| dir.flatten().map(|entry| entry.path()).collect())
            .unwrap_or_default();
        if let Some(file) = files
            .iter()
            .find(|path| path.extension().is_some_and(|e| e == "eml"))
        {
            break std::fs::read_to_string(file).unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no mail in {}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let token = link_token(&mail);
    assert_eq!(
        reset(&app, &token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn required_verification_holds_logins_until_the_link_is_followed() {
    let logs = LogCapture::install();
    let (app, sink) =
        smtp_app(|settings| settings.accounts.email_verification_required = true).await;
    let body = json!({"email": "ann@example.com", "password": PASSWORD, "password2": PASSWORD});
    let registered = app.post("/api/v1/auth/register/email", &body).await;
    let registered = expect(registered, StatusCode::ACCEPTED).await;
    assert!(registered["userId"].is_i64());
    assert!(registered.get("token").is_none());

    let refused = expect(
        app.login_with("ann@example.com", PASSWORD).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(refused["code"], "email_unverified");
    assert_eq!(refused["resolve"], "/api/v1/auth/verify-email");

    // Asking again sends a newer link (voiding the first); unknown
    // addresses get the same answer.
    let first = link_token(&sink.wait_for(1, MAIL_WAIT).await[0]);
    let path = "/api/v1/auth/verify-email";
    let unknown = app
        .post(path, &json!({"email": "nobody@example.com"}))
        .await;
    let unknown = expect(unknown, StatusCode::ACCEPTED).await;
    let known = app.post(path, &json!({"email": "ann@example.com"})).await;
    let known = expect(known, StatusCode::ACCEPTED).await;
    assert_eq!(unknown, known);
    let mails = sink.wait_for(2, MAIL_WAIT).await;
    let second = link_token(&mails[1]);
    assert!(mail_text(&mails[1]).contains("Subject: Verify your email address"));
    let stale = app
        .get(&format!("/api/v1/auth/verify-email?token={first}"))
        .await;
    assert_eq!(stale.status(), StatusCode::BAD_REQUEST);

    // The link itself (GET) verifies.
    let verified = app
        .get(&format!("/api/v1/auth/verify-email?token={second}"))
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    let ann = expect(
        app.login_with("ann@example.com", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    let profile = expect(app.me(ann["token"].as_str().unwrap()).await, StatusCode::OK).await;
    assert_eq!(profile["emailVerified"], true);
    let used = app
        .post("/api/v1/auth/verify-email", &json!({"token": second}))
        .await;
    assert_eq!(used.status(), StatusCode::BAD_REQUEST);
    let stored = app
        .db
        .strings("SELECT token_hash FROM account_tokens")
        .await;
    assert!(!stored.contains(&second) && stored.contains(&sha256_hex(&second)));
    let logged = logs.text();
    assert!(
        !logged.contains(&first) && !logged.contains(&second),
        "a verification token was logged"
    );
    assert!(logged.contains("email address verified"));
}
