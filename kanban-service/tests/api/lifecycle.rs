//! Every account-lifecycle transition at the account manager reaches kanban
//! on the next request: tokens issued before a ban, a disable, a role
//! change, a password change or reset, or an ended session are refused at
//! both services, with and without Redis; logins through kanban answer the
//! account's standing.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, RedisServer, Stack, User, expect, spawn_stack_full, spawn_stack_with,
};

/// Kanban refuses `token` within a second (no polling of the account
/// manager: it learns from the revocation feed), and so does the account
/// manager.
async fn refused_everywhere(stack: &Stack, token: &str, what: &str) {
    let started = Instant::now();
    while stack.user_status_at(&stack.kanban_url, token).await != StatusCode::UNAUTHORIZED {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: kanban still accepts the token"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        stack.me_status(token).await,
        StatusCode::UNAUTHORIZED,
        "{what}: auth"
    );
}

/// Logs in through kanban's seed-000 route: the status and body.
async fn kanban_login(stack: &Stack, email: &str, password: &str) -> (StatusCode, Value) {
    let answer = stack
        .client
        .post(stack.url("/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

async fn admin_patch(stack: &Stack, admin: &User, id: i64, body: Value) -> Value {
    let answer = stack
        .auth_send(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}"),
            Some(&admin.token),
            body,
        )
        .await;
    expect(answer, StatusCode::OK).await
}

fn sid(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

/// The token of the newest mail in the outbox.
async fn outbox_token(stack: &Stack, count: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(stack.outbox())
            .map(|dir| {
                dir.flatten()
                    .filter(|entry| entry.path().extension().is_some_and(|e| e == "eml"))
                    .map(|entry| {
                        let modified = entry.metadata().and_then(|m| m.modified()).unwrap();
                        (modified, std::fs::read_to_string(entry.path()).unwrap())
                    })
                    .collect()
            })
            .unwrap_or_default();
        if mails.len() >= count {
            mails.sort_by_key(|(modified, _)| *modified);
            let newest = &mails.last().unwrap().1;
            // The file may be there before all of it is written.
            if shared::testing::mail_text(newest).contains("token=") {
                return shared::testing::link_token(newest);
            }
        }
        assert!(Instant::now() < deadline, "no mail in the outbox");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn every_transition_reaches_kanban(stack: &Stack) {
    let admin = stack.user("Ada", "Admin", "ada@mail.com").await;
    let bystander = stack.user("Bob", "Bystander", "bob@mail.com").await;
    let transitions = [
        "disable",
        "ban",
        "timed-ban",
        "promote",
        "password-change",
        "password-reset",
        "end-session",
        "admin-ends-sessions",
    ];
    let mut mails = 0;
    for (n, transition) in transitions.into_iter().enumerate() {
        let email = format!("rita{n}@mail.com");
        let user = stack.user("Rita", "Revoked", &email).await;
        assert_eq!(
            stack.user_status_at(&stack.kanban_url, &user.token).await,
            StatusCode::OK
        );
        let mut password = PASSWORD.to_owned();
        match transition {
            "disable" => {
                let body = json!({"password": PASSWORD});
                let answer = stack
                    .auth_send(
                        Method::POST,
                        "/api/v1/auth/disable",
                        Some(&user.token),
                        body,
                    )
                    .await;
                assert_eq!(answer.status(), StatusCode::NO_CONTENT);
            }
            "ban" => {
                admin_patch(
                    stack,
                    &admin,
                    user.id,
                    json!({"status": "banned", "reason": "spam"}),
                )
                .await;
            }
            "timed-ban" => {
                let until = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
                admin_patch(
                    stack,
                    &admin,
                    user.id,
                    json!({"status": "banned", "bannedUntil": until.to_rfc3339()}),
                )
                .await;
            }
            "promote" => {
                admin_patch(stack, &admin, user.id, json!({"role": "admin"})).await;
            }
            "password-change" => {
                password = "a new passphrase".to_owned();
                let body = json!({"currentPassword": PASSWORD, "newPassword": password, "newPassword2": password});
                let answer = stack
                    .auth_send(
                        Method::POST,
                        "/api/v1/auth/password",
                        Some(&user.token),
                        body,
                    )
                    .await;
                assert_eq!(answer.status(), StatusCode::OK);
            }
            "password-reset" => {
                let body = json!({"email": email});
                let answer = stack
                    .auth_send(Method::POST, "/api/v1/auth/forgot-password", None, body)
                    .await;
                assert_eq!(answer.status(), StatusCode::ACCEPTED);
                mails += 1;
                let token = outbox_token(stack, mails).await;
                password = "a reset passphrase".to_owned();
                let body = json!({"token": token, "password": password, "password2": password});
                let answer = stack
                    .auth_send(Method::POST, "/api/v1/auth/reset-password", None, body)
                    .await;
                assert_eq!(answer.status(), StatusCode::NO_CONTENT);
            }
            "end-session" => {
                let path = format!("/api/v1/auth/sessions/{}", sid(&user.token));
                let other = kanban_login(stack, &email, PASSWORD).await.1;
                let other = other["access_token"].as_str().unwrap().to_owned();
                let answer = stack
                    .auth_send(Method::DELETE, &path, Some(&other), json!({}))
                    .await;
                assert_eq!(answer.status(), StatusCode::NO_CONTENT);
                refused_everywhere(stack, &user.token, transition).await;
                assert_eq!(
                    stack.user_status_at(&stack.kanban_url, &other).await,
                    StatusCode::OK
                );
                continue;
            }
            _ => {
                let path = format!("/api/v1/admin/users/{}/sessions", user.id);
                let answer = stack
                    .auth_send(Method::DELETE, &path, Some(&admin.token), json!({}))
                    .await;
                assert_eq!(answer.status(), StatusCode::NO_CONTENT);
            }
        }
        refused_everywhere(stack, &user.token, transition).await;
        assert_eq!(
            stack
                .user_status_at(&stack.kanban_url, &bystander.token)
                .await,
            StatusCode::OK,
            "{transition}: another user's token is untouched"
        );
        let (status, body) = kanban_login(stack, &email, &password).await;
        match transition {
            "disable" => assert_eq!(
                (status, body["msg"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("This account is disabled"))
            ),
            "ban" | "timed-ban" => assert_eq!(
                (status, body["msg"].as_str()),
                (StatusCode::FORBIDDEN, Some("This account is suspended"))
            ),
            _ => {
                assert_eq!(status, StatusCode::OK, "{transition}: {body}");
                let token = body["access_token"].as_str().unwrap();
                assert_eq!(
                    stack.user_status_at(&stack.kanban_url, token).await,
                    StatusCode::OK
                );
            }
        }
        if transition == "timed-ban" {
            tokio::time::sleep(Duration::from_millis(1600)).await;
            let (status, body) = kanban_login(stack, &email, PASSWORD).await;
            assert_eq!(status, StatusCode::OK, "the ban ran out: {body}");
            let token = body["access_token"].as_str().unwrap();
            assert_eq!(
                stack.user_status_at(&stack.kanban_url, token).await,
                StatusCode::OK
            );
            assert_eq!(
                stack.user_status_at(&stack.kanban_url, &user.token).await,
                StatusCode::UNAUTHORIZED
            );
        }
        if transition == "ban" {
            admin_patch(stack, &admin, user.id, json!({"status": "active"})).await;
            let (status, _) = kanban_login(stack, &email, PASSWORD).await;
            assert_eq!(status, StatusCode::OK, "unbanned");
        }
    }
}

#[tokio::test]
async fn every_lifecycle_transition_reaches_kanban_without_redis() {
    let stack = spawn_stack_with(None).await;
    every_transition_reaches_kanban(&stack).await;
}

#[tokio::test]
async fn every_lifecycle_transition_reaches_kanban_with_redis() {
    let redis = RedisServer::start().await;
    let stack = spawn_stack_with(Some(redis.url.clone())).await;
    every_transition_reaches_kanban(&stack).await;
}

#[tokio::test]
async fn a_demoted_admin_loses_admin_rights_at_once() {
    let stack = spawn_stack_with(None).await;
    let first = stack.user("Ada", "Admin", "ada@mail.com").await;
    let second = stack.user("Sam", "Second", "sam@mail.com").await;
    admin_patch(&stack, &first, second.id, json!({"role": "admin"})).await;
    let (_, second_login) = kanban_login(&stack, "sam@mail.com", PASSWORD).await;
    let second_token = second_login["access_token"].as_str().unwrap().to_owned();
    let answer = stack
        .auth_send(
            Method::PATCH,
            &format!("/api/v1/admin/users/{}", first.id),
            Some(&second_token),
            json!({"role": "user"}),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    refused_everywhere(&stack, &first.token, "demotion").await;
    let (_, again) = kanban_login(&stack, "ada@mail.com", PASSWORD).await;
    let again = again["access_token"].as_str().unwrap();
    let admin_route = stack
        .client
        .get(format!("{}/api/v1/admin/users", stack.auth_url))
        .bearer_auth(again)
        .send()
        .await
        .unwrap();
    assert_eq!(admin_route.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn with_verification_required_kanban_registers_and_login_waits_for_the_link() {
    let required = vec![("AUTH_EMAIL_VERIFICATION", "required".to_owned())];
    let stack = spawn_stack_full(None, required, Vec::new()).await;
    let body = json!({"first_name": "Vera", "last_name": "Fied", "email": "vera@mail.com", "password": PASSWORD});
    let registered = stack
        .client
        .post(stack.url("/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    expect(registered, StatusCode::CREATED).await;
    let (status, body) = kanban_login(&stack, "vera@mail.com", PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("verify your email"));
    let token = outbox_token(&stack, 1).await;
    let verified = stack
        .client
        .get(format!(
            "{}/api/v1/auth/verify-email?token={token}",
            stack.auth_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    let (status, body) = kanban_login(&stack, "vera@mail.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Sign-ins through kanban count against the account manager's limits for
/// the caller's own address (kanban forwards it), and a refusal reads as
/// kanban's 429.
#[tokio::test]
async fn kanban_sign_ins_meet_the_account_managers_limits() {
    let tight = vec![("AUTH_LOGIN_LIMIT", "2/60".to_owned())];
    let stack = spawn_stack_full(None, tight, Vec::new()).await;
    stack.user("Lim", "Ited", "lim@mail.com").await; // one login
    let (status, _) = kanban_login(&stack, "lim@mail.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = kanban_login(&stack, "lim@mail.com", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["msg"]
            .as_str()
            .unwrap()
            .starts_with("Too many attempts")
    );
}
