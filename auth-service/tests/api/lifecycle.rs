//! The account lifecycle end to end: disable and reactivate, bans (lifted
//! and timed), role changes, password changes, the last-admin rule, and
//! what login, refresh and `me` answer with tokens issued before each.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, expect, spawn_app};

const DISABLED: &str = "Unauthorized: User account is disabled.";
const BANNED: &str = "Forbidden: User has been banned.";

fn token(answer: &Value) -> &str {
    answer["token"].as_str().expect("an access token")
}

fn refresh_token(answer: &Value) -> &str {
    answer["refreshToken"].as_str().expect("a refresh token")
}

fn user_id(answer: &Value) -> i64 {
    answer["userId"].as_i64().expect("a user id")
}

/// An admin (the first account) and a user, both logged in.
async fn admin_and_user(app: &TestApp) -> (Value, Value) {
    let admin = app.register("admin@example.com").await;
    let user = app.register("ann@example.com").await;
    (admin, user)
}

async fn patch_user(app: &TestApp, admin: &Value, id: i64, body: Value) -> reqwest::Response {
    app.patch_auth(&format!("/api/v1/admin/users/{id}"), token(admin), &body)
        .await
}

/// What login with the right password, refresh and `me` answer for tokens
/// issued before a change.
async fn answers(
    app: &TestApp,
    email: &str,
    before: &Value,
) -> (StatusCode, StatusCode, StatusCode) {
    let login = app.login_with(email, PASSWORD).await.status();
    let refresh = app.refresh(refresh_token(before)).await.status();
    let me = app.me(token(before)).await.status();
    (login, refresh, me)
}

#[tokio::test]
async fn a_user_disables_and_reactivates_their_account() {
    let app = spawn_app().await;
    let (_, ann) = admin_and_user(&app).await;

    let wrong = app
        .post_json_auth(
            "/api/v1/auth/disable",
            token(&ann),
            &json!({"password": "nope nope"}),
        )
        .await;
    assert_eq!(
        expect(wrong, StatusCode::BAD_REQUEST).await["code"],
        "wrong_password"
    );
    let disabled = app
        .post_json_auth(
            "/api/v1/auth/disable",
            token(&ann),
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);

    let (login, refresh, me) = answers(&app, "ann@example.com", &ann).await;
    assert_eq!(
        (login, refresh, me),
        (
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED
        )
    );
    let body = expect(
        app.login_with("ann@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(body["msg"], DISABLED);
    assert_eq!(body["humanMsg"], "This account is disabled.");
    assert_eq!(body["resolve"], "/api/v1/reactivate/email");
    let body = expect(
        app.refresh(refresh_token(&ann)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(body["code"], "account_disabled");

    // A wrong password or an unknown email answers as a failed login does.
    let failed_login = expect(
        app.login_with("ann@example.com", "wrong password").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    for (email, password) in [
        ("ann@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let answer = app
            .post(
                "/api/v1/reactivate/email",
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(expect(answer, StatusCode::BAD_REQUEST).await, failed_login);
    }

    let back = app
        .post(
            "/api/v1/reactivate/email",
            &json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    let back = expect(back, StatusCode::OK).await;
    assert_eq!(app.me(token(&back)).await.status(), StatusCode::OK);
    assert_eq!(app.me(token(&ann)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login_with("ann@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );

    // The native path does the same.
    let again = app
        .post_json_auth(
            "/api/v1/auth/disable",
            token(&back),
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
    let back = app
        .post(
            "/api/v1/auth/reactivate",
            &json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(back.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_ban_kills_every_token_until_it_is_lifted() {
    let app = spawn_app().await;
    let (admin, ann) = admin_and_user(&app).await;
    let ann_id = user_id(&ann);

    // Only admins ban.
    let answer = patch_user(&app, &ann, user_id(&admin), json!({"status": "banned"})).await;
    assert_eq!(
        expect(answer, StatusCode::FORBIDDEN).await["code"],
        "admin_required"
    );

    let banned = patch_user(
        &app,
        &admin,
        ann_id,
        json!({"status": "banned", "reason": "spam"}),
    )
    .await;
    let banned = expect(banned, StatusCode::OK).await;
    assert_eq!(
        (banned["status"].as_str(), banned["banReason"].as_str()),
        (Some("banned"), Some("spam"))
    );
    assert!(banned.get("bannedUntil").is_none());

    let (login, refresh, me) = answers(&app, "ann@example.com", &ann).await;
    assert_eq!(
        (login, refresh, me),
        (
            StatusCode::FORBIDDEN,
            StatusCode::FORBIDDEN,
            StatusCode::UNAUTHORIZED
        )
    );
    let body = expect(
        app.login_with("ann@example.com", PASSWORD).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(body["msg"], BANNED);
    assert_eq!(body["humanMsg"], "This account is suspended.");
    let reactivate = app
        .post(
            "/api/v1/reactivate/email",
            &json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        expect(reactivate, StatusCode::FORBIDDEN).await["msg"],
        BANNED
    );

    let unbanned = patch_user(&app, &admin, ann_id, json!({"status": "active"})).await;
    let unbanned = expect(unbanned, StatusCode::OK).await;
    assert_eq!(unbanned["status"], "active");
    assert!(unbanned.get("banReason").is_none());
    let fresh = expect(
        app.login_with("ann@example.com", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(app.me(token(&fresh)).await.status(), StatusCode::OK);
    // Tokens from before the ban stay dead.
    assert_eq!(app.me(token(&ann)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.refresh(refresh_token(&ann)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_timed_ban_ends_by_itself() {
    let app = spawn_app().await;
    let (admin, ann) = admin_and_user(&app).await;
    let until = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let banned = patch_user(
        &app,
        &admin,
        user_id(&ann),
        json!({"status": "banned", "bannedUntil": until.to_rfc3339()}),
    )
    .await;
    let banned = expect(banned, StatusCode::OK).await;
    assert!(banned["bannedUntil"].is_string());
    let (login, refresh, me) = answers(&app, "ann@example.com", &ann).await;
    assert_eq!(
        (login, refresh, me),
        (
            StatusCode::FORBIDDEN,
            StatusCode::FORBIDDEN,
            StatusCode::UNAUTHORIZED
        )
    );

    tokio::time::sleep(Duration::from_millis(1700)).await;
    let fresh = expect(
        app.login_with("ann@example.com", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(app.me(token(&fresh)).await.status(), StatusCode::OK);
    let seen = app
        .get_auth(
            &format!("/api/v1/admin/users/{}", user_id(&ann)),
            token(&admin),
        )
        .await;
    assert_eq!(expect(seen, StatusCode::OK).await["status"], "active");
    // The ban killed the old session for good.
    assert_eq!(
        app.refresh(refresh_token(&ann)).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let past = patch_user(
        &app,
        &admin,
        user_id(&ann),
        json!({"status": "banned", "bannedUntil": "2020-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        expect(past, StatusCode::BAD_REQUEST).await["code"],
        "validation"
    );
    let stray = patch_user(
        &app,
        &admin,
        user_id(&ann),
        json!({"status": "active", "reason": "why"}),
    )
    .await;
    assert_eq!(stray.status(), StatusCode::BAD_REQUEST);
    let unknown = patch_user(&app, &admin, user_id(&ann), json!({"status": "frozen"})).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let nobody = patch_user(&app, &admin, 999_999, json!({"status": "banned"})).await;
    assert_eq!(
        expect(nobody, StatusCode::NOT_FOUND).await["code"],
        "user_not_found"
    );
}

#[tokio::test]
async fn role_changes_take_effect_at_once_and_one_admin_always_remains() {
    let app = spawn_app().await;
    let (admin, ann) = admin_and_user(&app).await;
    let (admin_id, ann_id) = (user_id(&admin), user_id(&ann));
    assert_eq!(
        app.get_auth("/api/v1/admin/users", token(&ann))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let promoted = expect(
        patch_user(&app, &admin, ann_id, json!({"role": "admin"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(promoted["role"], "admin");
    // Her old token (role user) is dead; her next session is an admin's.
    assert_eq!(app.me(token(&ann)).await.status(), StatusCode::UNAUTHORIZED);
    let ann = app.login("ann@example.com").await;
    assert_eq!(
        app.get_auth("/api/v1/admin/users", token(&ann))
            .await
            .status(),
        StatusCode::OK
    );

    // Ann demotes the first admin: his admin token stops working at once.
    expect(
        patch_user(&app, &ann, admin_id, json!({"role": "user"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app.get_auth("/api/v1/admin/users", token(&admin))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let admin = app.login("admin@example.com").await;
    assert_eq!(
        app.get_auth("/api/v1/admin/users", token(&admin))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // Ann is the last active admin now.
    for change in [
        json!({"role": "user"}),
        json!({"status": "disabled"}),
        json!({"status": "banned"}),
    ] {
        let refused = patch_user(&app, &ann, ann_id, change).await;
        assert_eq!(
            expect(refused, StatusCode::CONFLICT).await["code"],
            "last_admin"
        );
    }
    let refused = app
        .post_json_auth(
            "/api/v1/auth/disable",
            token(&ann),
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(
        expect(refused, StatusCode::CONFLICT).await["code"],
        "last_admin"
    );
    assert_eq!(app.me(token(&ann)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn of_two_concurrent_demotions_exactly_one_succeeds() {
    for round in 0..3 {
        let app = spawn_app().await;
        let (a, b) = admin_and_user(&app).await;
        expect(
            patch_user(&app, &a, user_id(&b), json!({"role": "admin"})).await,
            StatusCode::OK,
        )
        .await;
        // Two admins; the one request demotes the other while the other
        // demotes itself.
        let (demote_b, demote_a) = tokio::join!(
            patch_user(&app, &a, user_id(&b), json!({"role": "user"})),
            patch_user(&app, &a, user_id(&a), json!({"role": "user"})),
        );
        let statuses = [demote_b.status(), demote_a.status()];
        let succeeded = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(succeeded, 1, "round {round}: {statuses:?}");
        // The loser is refused by the rule, or (when its caller's own
        // demotion won) by the caller's token having died.
        let refused = [
            StatusCode::OK,
            StatusCode::CONFLICT,
            StatusCode::UNAUTHORIZED,
        ];
        assert!(
            statuses.iter().all(|s| refused.contains(s)),
            "round {round}: {statuses:?}"
        );
        let admins = app
            .db
            .strings("SELECT email FROM users WHERE role = 'admin' AND status = 'active'")
            .await;
        assert_eq!(admins.len(), 1, "round {round}: {admins:?}");
    }
}

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let app = spawn_app().await;
    let (_, ann) = admin_and_user(&app).await;
    let other = app.login("ann@example.com").await;
    let path = "/api/v1/auth/password";
    let new = "a new passphrase";

    let wrong = app
        .post_json_auth(
            path,
            token(&ann),
            &json!({"currentPassword": "wrong one", "newPassword": new, "newPassword2": new}),
        )
        .await;
    assert_eq!(
        expect(wrong, StatusCode::BAD_REQUEST).await["code"],
        "wrong_password"
    );
    let differ = app
        .post_json_auth(
            path,
            token(&ann),
            &json!({"currentPassword": PASSWORD, "newPassword": new, "newPassword2": "other"}),
        )
        .await;
    assert_eq!(
        expect(differ, StatusCode::BAD_REQUEST).await["msg"],
        "Bad Request: Passwords do not match."
    );
    let short = app
        .post_json_auth(
            path,
            token(&ann),
            &json!({"currentPassword": PASSWORD, "newPassword": "12345", "newPassword2": "12345"}),
        )
        .await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.me(token(&ann)).await.status(), StatusCode::OK);

    let changed = app
        .post_json_auth(
            path,
            token(&ann),
            &json!({"currentPassword": PASSWORD, "newPassword": new, "newPassword2": new}),
        )
        .await;
    let changed = expect(changed, StatusCode::OK).await;
    assert_eq!(app.me(token(&changed)).await.status(), StatusCode::OK);
    assert_eq!(
        app.refresh(refresh_token(&changed)).await.status(),
        StatusCode::OK
    );
    for before in [&ann, &other] {
        assert_eq!(
            app.me(token(before)).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.refresh(refresh_token(before)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.login_with("ann@example.com", PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.login_with("ann@example.com", new).await.status(),
        StatusCode::OK
    );
}
