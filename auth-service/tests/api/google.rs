//! Sign-in with Google ID tokens, against a local issuer (a JWKS server
//! with RSA keys the test generates): accounts created, linked and found
//! by subject; every kind of bad token refused with 401; the standing of the
//! account answered as a password login does; key rotation followed, and
//! unknown `kid`s refetching at a bounded rate.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    GoogleIssuer, PASSWORD, TestApp, TestDatabase, expect, settings_for, spawn_app, spawn_with,
    spawn_with_google, with_google,
};

const ROUTE: &str = "/api/v1/auth/login/google";

async fn google_login(app: &TestApp, id_token: &str) -> reqwest::Response {
    app.post(ROUTE, &json!({"idToken": id_token})).await
}

/// Signs in with a valid token for `sub` and `email`; the token answer.
async fn signed_in(app: &TestApp, issuer: &GoogleIssuer, sub: &str, email: &str) -> Value {
    let token = issuer.id_token(&issuer.claims(sub, email));
    expect(google_login(app, &token).await, StatusCode::OK).await
}

fn token(answer: &Value) -> &str {
    answer["token"].as_str().expect("an access token")
}

async fn me(app: &TestApp, answer: &Value) -> Value {
    expect(app.me(token(answer)).await, StatusCode::OK).await
}

/// The 401 of a refused token; answers its `msg`.
async fn refused(app: &TestApp, id_token: &str) -> String {
    let body = expect(google_login(app, id_token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["code"], "invalid_google_token", "{body}");
    body["msg"].as_str().expect("a msg").to_owned()
}

#[tokio::test]
async fn a_google_id_token_creates_an_account_whose_tokens_work() {
    let (app, issuer) = spawn_with_google().await;
    let mut claims = issuer.claims("1067916790160", "Yosia.Elnino@gmail.com");
    claims["given_name"] = json!("Yosia");
    claims["family_name"] = json!("Elnino");
    claims["name"] = json!("Yosia Elnino");
    let response = app
        .client
        .post(app.url(ROUTE))
        .header("User-Agent", "google-test-browser/1.0")
        .json(&json!({"idToken": issuer.id_token(&claims)}))
        .send()
        .await
        .unwrap();
    let answer = expect(response, StatusCode::OK).await;
    for field in [
        "token",
        "tokenIssuedDate",
        "tokenExpiredDate",
        "userId",
        "refreshToken",
        "refreshTokenExpiredDate",
    ] {
        assert!(!answer[field].is_null(), "{field} missing: {answer}");
    }
    let user = me(&app, &answer).await;
    assert_eq!(user["id"], answer["userId"]);
    assert_eq!(user["email"], "yosia.elnino@gmail.com");
    assert_eq!(user["firstName"], "Yosia");
    assert_eq!(user["lastName"], "Elnino");
    assert_eq!(user["emailVerified"], true);
    assert_eq!(user["status"], "active");

    // A session like any other: listed with its client, refreshable.
    let sessions = expect(
        app.get_auth("/api/v1/auth/sessions", token(&answer)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sessions[0]["userAgent"], "google-test-browser/1.0");
    assert_eq!(sessions[0]["ipAddress"], "127.0.0.1");
    let refreshed = app.refresh(answer["refreshToken"].as_str().unwrap()).await;
    let refreshed = expect(refreshed, StatusCode::OK).await;
    assert_eq!(refreshed["userId"], answer["userId"]);

    // The same Google account again: the same account, a new session.
    let again = signed_in(&app, &issuer, "1067916790160", "yosia.elnino@gmail.com").await;
    assert_eq!(again["userId"], answer["userId"]);
}

#[tokio::test]
async fn the_first_google_user_on_an_empty_database_becomes_admin_once() {
    let (app, issuer) = spawn_with_google().await;
    let first = signed_in(&app, &issuer, "g-1", "first@gmail.com").await;
    let second = signed_in(&app, &issuer, "g-2", "second@gmail.com").await;
    assert_eq!(me(&app, &first).await["role"], "admin");
    assert_eq!(me(&app, &second).await["role"], "user");
    // A password registration after them is no admin either.
    let third = app.register("third@example.com").await;
    assert_eq!(me(&app, &third).await["role"], "user");
}

#[tokio::test]
async fn an_existing_password_account_is_linked_and_later_found_by_subject() {
    let (app, issuer) = spawn_with_google().await;
    app.register("admin@example.com").await;
    let ann = app.register("ann@example.com").await;

    // Same email, any case: the password account signs in and is linked.
    let linked = signed_in(&app, &issuer, "ann-sub", "Ann@Example.COM").await;
    assert_eq!(linked["userId"], ann["userId"]);
    let user = me(&app, &linked).await;
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["role"], "user");
    assert_eq!(
        user["emailVerified"], true,
        "Google vouched for the address"
    );

    // Her Google email changes: the subject still finds her account.
    let renamed = signed_in(&app, &issuer, "ann-sub", "ann.lee@gmail.com").await;
    assert_eq!(renamed["userId"], ann["userId"]);
    assert_eq!(me(&app, &renamed).await["email"], "ann@example.com");
    // Her password still works.
    app.login("ann@example.com").await;

    // Another Google account with her address is not let in.
    let other = issuer.id_token(&issuer.claims("someone-else", "ann@example.com"));
    let body = expect(google_login(&app, &other).await, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "google_account_conflict");
    let stored = app
        .db
        .strings("SELECT google_subject FROM users WHERE email = 'ann@example.com'")
        .await;
    assert_eq!(stored, ["ann-sub"]);
}

#[tokio::test]
async fn every_kind_of_bad_google_token_is_refused_with_401() {
    let (app, issuer) = spawn_with_google().await;
    let valid = issuer.claims("sub-1", "bad@gmail.com");
    let with = |key: &str, value: Value| {
        let mut claims = valid.clone();
        claims[key] = value;
        claims
    };
    let now = chrono::Utc::now().timestamp();

    let wrong_aud = refused(&app, &issuer.id_token(&with("aud", json!("another-app")))).await;
    assert!(wrong_aud.contains("another client"), "{wrong_aud}");
    let wrong_iss = refused(
        &app,
        &issuer.id_token(&with("iss", json!("https://evil.example.com"))),
    )
    .await;
    assert!(wrong_iss.contains("not issued by Google"), "{wrong_iss}");
    let mut expired = with("exp", json!(now - 3600));
    expired["iat"] = json!(now - 7200);
    let expired = refused(&app, &issuer.id_token(&expired)).await;
    assert!(expired.contains("expired"), "{expired}");
    let forged = refused(&app, &issuer.forged_token(&valid)).await;
    assert!(forged.contains("signature"), "{forged}");
    let unknown = refused(&app, &issuer.token_with_unknown_kid(&valid)).await;
    assert!(unknown.contains("key Google does not publish"), "{unknown}");
    let unverified = refused(
        &app,
        &issuer.id_token(&with("email_verified", json!(false))),
    )
    .await;
    assert!(unverified.contains("not verified"), "{unverified}");
    let mut no_sub = valid.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    let no_sub = refused(&app, &issuer.id_token(&no_sub)).await;
    assert!(no_sub.contains("malformed"), "{no_sub}");
    for garbage in [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        // HS256 over the same claims: the algorithm is pinned to RS256.
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    ] {
        let msg = refused(&app, garbage).await;
        assert!(msg.contains("malformed"), "{garbage}: {msg}");
    }

    // None of them made an account.
    let users = app.db.strings("SELECT email FROM users").await;
    assert!(users.is_empty(), "{users:?}");

    // A missing token is a validation error.
    let missing = expect(app.post(ROUTE, &json!({})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(missing["code"], "validation");
}

#[tokio::test]
async fn disabled_and_banned_accounts_answer_as_password_login_does() {
    let (app, issuer) = spawn_with_google().await;
    let admin = app.register("admin@example.com").await;
    let bob = app.register("bob@example.com").await;
    let carol = app.register("carol@example.com").await;

    let disabled = app
        .post_json_auth(
            "/api/v1/auth/disable",
            token(&bob),
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    let by_password = expect(
        app.login_with("bob@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let bob_token = issuer.id_token(&issuer.claims("bob-sub", "bob@example.com"));
    let by_google = expect(
        google_login(&app, &bob_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(by_google, by_password);
    assert_eq!(by_google["code"], "account_disabled");

    let carol_id = carol["userId"].as_i64().unwrap();
    let banned = app
        .patch_auth(
            &format!("/api/v1/admin/users/{carol_id}"),
            token(&admin),
            &json!({"status": "banned"}),
        )
        .await;
    expect(banned, StatusCode::OK).await;
    let by_password = expect(
        app.login_with("carol@example.com", PASSWORD).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let carol_token = issuer.id_token(&issuer.claims("carol-sub", "carol@example.com"));
    let by_google = expect(
        google_login(&app, &carol_token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(by_google, by_password);
    assert_eq!(by_google["code"], "account_banned");

    // Once linked and then banned, the subject answers the same.
    let dave = signed_in(&app, &issuer, "dave-sub", "dave@gmail.com").await;
    let dave_id = dave["userId"].as_i64().unwrap();
    let banned = app
        .patch_auth(
            &format!("/api/v1/admin/users/{dave_id}"),
            token(&admin),
            &json!({"status": "banned"}),
        )
        .await;
    expect(banned, StatusCode::OK).await;
    let again = issuer.id_token(&issuer.claims("dave-sub", "dave@gmail.com"));
    let body = expect(google_login(&app, &again).await, StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "account_banned");
}

#[tokio::test]
async fn an_account_made_by_google_has_no_password_to_use() {
    let (app, issuer) = spawn_with_google().await;
    app.register("admin@example.com").await;
    let gina = signed_in(&app, &issuer, "gina-sub", "gina@gmail.com").await;

    // Password login: exactly the answer of a wrong password.
    let wrong = expect(
        app.login_with("admin@example.com", "not the password")
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    for password in ["", "anything at all", PASSWORD] {
        let response = app.login_with("gina@gmail.com", password).await;
        if password.is_empty() {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            continue;
        }
        assert_eq!(expect(response, StatusCode::BAD_REQUEST).await, wrong);
    }
    // Reactivation answers as a failed login.
    let reactivate = app
        .post(
            "/api/v1/auth/reactivate",
            &json!({"email": "gina@gmail.com", "password": "anything at all"}),
        )
        .await;
    assert_eq!(expect(reactivate, StatusCode::BAD_REQUEST).await, wrong);
    // Changes confirmed with a password are refused as a wrong password.
    let disable = app
        .post_json_auth(
            "/api/v1/auth/disable",
            token(&gina),
            &json!({"password": "anything at all"}),
        )
        .await;
    assert_eq!(
        expect(disable, StatusCode::BAD_REQUEST).await["code"],
        "wrong_password"
    );
    let change = app
        .post_json_auth(
            "/api/v1/auth/password",
            token(&gina),
            &json!({
                "currentPassword": "anything at all",
                "newPassword": "tulip-orbit-93",
                "newPassword2": "tulip-orbit-93",
            }),
        )
        .await;
    assert_eq!(
        expect(change, StatusCode::BAD_REQUEST).await["code"],
        "wrong_password"
    );
    // Google still signs her in.
    signed_in(&app, &issuer, "gina-sub", "gina@gmail.com").await;
}

#[tokio::test]
async fn a_key_rotation_at_google_is_followed() {
    let (app, issuer) = spawn_with_google().await;
    let old_token = issuer.id_token(&issuer.claims("rot-sub", "rot@gmail.com"));
    let first = expect(google_login(&app, &old_token).await, StatusCode::OK).await;
    assert_eq!(issuer.fetches(), 1);

    let new_kid = issuer.rotate();
    let new_token = issuer.id_token(&issuer.claims("rot-sub", "rot@gmail.com"));
    assert_eq!(crate::helpers::header_of(&new_token)["kid"], new_kid);
    let second = expect(google_login(&app, &new_token).await, StatusCode::OK).await;
    assert_eq!(second["userId"], first["userId"]);
    assert_eq!(issuer.fetches(), 2, "the new kid was fetched once");
    // The old key is still published, and still verifies.
    expect(google_login(&app, &old_token).await, StatusCode::OK).await;
    assert_eq!(issuer.fetches(), 2, "known kids need no fetch");
}

#[tokio::test]
async fn unknown_kids_refetch_the_jwks_at_a_bounded_rate() {
    let issuer = GoogleIssuer::start().await;
    let db = TestDatabase::fresh().await;
    let mut settings = with_google(settings_for(&db), &issuer);
    settings.google.jwks_min_refetch = Duration::from_secs(3600);
    let app = spawn_with(settings, db).await;

    signed_in(&app, &issuer, "b-sub", "bounded@gmail.com").await;
    assert_eq!(issuer.fetches(), 1);
    let claims = issuer.claims("b-sub", "bounded@gmail.com");
    for _ in 0..5 {
        refused(&app, &issuer.token_with_unknown_kid(&claims)).await;
    }
    assert_eq!(
        issuer.fetches(),
        1,
        "made-up kids do not fetch within the bound"
    );
}

#[tokio::test]
async fn google_keys_that_cannot_be_fetched_answer_503() {
    let (app, issuer) = spawn_with_google().await;
    issuer.set_failing(true);
    let token = issuer.id_token(&issuer.claims("u-sub", "u@gmail.com"));
    let response = google_login(&app, &token).await;
    assert!(response.headers().contains_key("retry-after"));
    let body = expect(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["code"], "unavailable");
    issuer.set_failing(false);
    expect(google_login(&app, &token).await, StatusCode::OK).await;

    // Nothing listening at the JWKS URL at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let db = TestDatabase::fresh().await;
    let mut settings = with_google(settings_for(&db), &issuer);
    settings.google.jwks_url = format!("http://127.0.0.1:{port}/oauth2/v3/certs");
    let unreachable = spawn_with(settings, db).await;
    let body = expect(
        google_login(&unreachable, &token).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(body["code"], "unavailable");
}

#[tokio::test]
async fn google_sign_in_is_501_until_client_ids_are_configured() {
    let app = spawn_app().await;
    let issuer = GoogleIssuer::start().await;
    let token = issuer.id_token(&issuer.claims("x-sub", "x@gmail.com"));
    let body = expect(
        google_login(&app, &token).await,
        StatusCode::NOT_IMPLEMENTED,
    )
    .await;
    assert_eq!(body["code"], "google_not_configured");
    assert_eq!(issuer.fetches(), 0);
}

#[tokio::test]
async fn google_sign_ins_count_against_the_login_limit() {
    let issuer = GoogleIssuer::start().await;
    let db = TestDatabase::fresh().await;
    let mut settings = with_google(settings_for(&db), &issuer);
    settings.limits.login = auth_service::throttle::Limit {
        count: 2,
        window: Duration::from_secs(60),
    };
    let app = spawn_with(settings, db).await;
    let token = issuer.id_token(&issuer.claims("l-sub", "limited@gmail.com"));
    expect(google_login(&app, &token).await, StatusCode::OK).await;
    refused(&app, "garbage").await;
    let limited = google_login(&app, &token).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn with_verification_required_google_accounts_are_verified() {
    let issuer = GoogleIssuer::start().await;
    let db = TestDatabase::fresh().await;
    let mut settings = with_google(settings_for(&db), &issuer);
    settings.accounts.email_verification_required = true;
    let app = spawn_with(settings, db).await;
    // A password registration waits for its link...
    let registered = app
        .post(
            "/api/v1/register/email",
            &json!({"email": "vera@example.com", "password": PASSWORD, "password2": PASSWORD}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    let waiting = app.login_with("vera@example.com", PASSWORD).await;
    assert_eq!(waiting.status(), StatusCode::FORBIDDEN);
    // ...Google vouches for the address: signed in, and verified.
    let vera = signed_in(&app, &issuer, "vera-sub", "vera@example.com").await;
    assert_eq!(me(&app, &vera).await["emailVerified"], true);
    app.login("vera@example.com").await;
    let newcomer = signed_in(&app, &issuer, "new-sub", "new@gmail.com").await;
    assert_eq!(me(&app, &newcomer).await["emailVerified"], true);
}

#[tokio::test]
async fn racing_google_sign_ins_make_one_account_and_one_admin() {
    let (app, issuer) = spawn_with_google().await;
    // The same new person from several tabs at once: one account.
    let token = issuer.id_token(&issuer.claims("race-sub", "race@gmail.com"));
    let answers = futures::future::join_all((0..8).map(|_| google_login(&app, &token))).await;
    let mut ids = Vec::new();
    for answer in answers {
        ids.push(expect(answer, StatusCode::OK).await["userId"].clone());
    }
    assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "{ids:?}");
    // Several new people at once on a database with one account: no
    // second admin.
    let tokens: Vec<String> = (0..8)
        .map(|n| issuer.id_token(&issuer.claims(&format!("sub-{n}"), &format!("p{n}@gmail.com"))))
        .collect();
    let answers = futures::future::join_all(tokens.iter().map(|t| google_login(&app, t))).await;
    for answer in answers {
        expect(answer, StatusCode::OK).await;
    }
    let admins = app
        .db
        .strings("SELECT email FROM users WHERE role = 'admin'")
        .await;
    assert_eq!(admins, ["race@gmail.com"]);
}

#[tokio::test]
async fn google_sign_ins_are_audited() {
    let (app, issuer) = spawn_with_google().await;
    let first = signed_in(&app, &issuer, "2001", "lee@example.com").await;
    signed_in(&app, &issuer, "2001", "lee@example.com").await;
    let admin = token(&first);
    let page = app.get_auth("/api/v1/admin/audit", admin).await;
    let page = expect(page, StatusCode::OK).await;
    let mut seen: Vec<(String, String)> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    seen.reverse();
    let google = |kind: &str| (kind.to_owned(), "google".to_owned());
    assert_eq!(
        seen,
        [
            google("registered"),
            google("login_succeeded"),
            google("login_succeeded")
        ]
    );
}
