//! One account store, five frontends: accounts registered through any
//! dialect (the native API, seeds 001, 002 and 003 at the account manager,
//! seed 000 at kanban) sign in through every other; a session refreshed
//! in one dialect is ended in another; a ban is seen by all, each in its
//! own shape.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Stack, spawn_stack, until_refused};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dialect {
    Native,
    Seed001,
    Seed002,
    Seed003,
    Kanban,
}

const ALL: [Dialect; 5] = [
    Dialect::Native,
    Dialect::Seed001,
    Dialect::Seed002,
    Dialect::Seed003,
    Dialect::Kanban,
];

/// A session's tokens, as the dialect that opened it handed them out.
#[derive(Debug, Clone)]
struct Session {
    access: String,
    refresh: String,
}

async fn call(
    stack: &Stack,
    method: Method,
    url: String,
    headers: &[(&str, &str)],
    body: Value,
) -> (StatusCode, Value) {
    let mut request = stack.client.request(method, url).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let answer = request.send().await.expect("request");
    let status = answer.status();
    let text = answer.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn auth(stack: &Stack, path: &str) -> String {
    format!("{}{path}", stack.auth_url)
}

fn kanban(stack: &Stack, path: &str) -> String {
    format!("{}{path}", stack.kanban_url)
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a string: {value}"))
        .to_owned()
}

/// Registers `name` (`name@example.com`) through `dialect`.
async fn register(stack: &Stack, dialect: Dialect, name: &str) {
    let email = format!("{name}@example.com");
    let (url, body, created) = match dialect {
        Dialect::Native => (
            auth(stack, "/api/v1/auth/register/email"),
            json!({"email": email, "password": PASSWORD, "password2": PASSWORD}),
            StatusCode::CREATED,
        ),
        Dialect::Seed001 => (
            auth(stack, "/auth/register"),
            json!({"username": name, "email": email, "password": PASSWORD}),
            StatusCode::CREATED,
        ),
        Dialect::Seed002 => (
            auth(stack, "/api/v1/register"),
            json!({"name": name, "email": email, "password": PASSWORD,
                   "password_confirmation": PASSWORD}),
            StatusCode::OK,
        ),
        Dialect::Seed003 => (
            auth(stack, "/api/v1/user/signup"),
            json!({"username": name, "email": email, "password": PASSWORD}),
            StatusCode::CREATED,
        ),
        Dialect::Kanban => (
            kanban(stack, "/register"),
            json!({"first_name": name, "last_name": "K", "email": email, "password": PASSWORD}),
            StatusCode::CREATED,
        ),
    };
    let (status, answer) = call(stack, Method::POST, url, &[], body).await;
    assert_eq!(
        status, created,
        "register {name} through {dialect:?}: {answer}"
    );
}

/// The request of a sign-in through `dialect` with the account's email.
fn sign_in_request(stack: &Stack, dialect: Dialect, email: &str) -> (String, Value) {
    match dialect {
        Dialect::Native => (
            auth(stack, "/api/v1/auth/login/email"),
            json!({"email": email, "password": PASSWORD}),
        ),
        Dialect::Seed001 => (
            auth(stack, "/auth/token"),
            json!({"username": email, "password": PASSWORD}),
        ),
        Dialect::Seed002 => (
            auth(stack, "/api/v1/login"),
            json!({"email": email, "password": PASSWORD}),
        ),
        Dialect::Seed003 => (
            auth(stack, "/login"),
            json!({"username": email, "password": PASSWORD}),
        ),
        Dialect::Kanban => (
            kanban(stack, "/login"),
            json!({"email": email, "password": PASSWORD}),
        ),
    }
}

async fn sign_in(stack: &Stack, dialect: Dialect, email: &str) -> Session {
    let (url, body) = sign_in_request(stack, dialect, email);
    let (status, answer) = call(stack, Method::POST, url, &[], body).await;
    let ok = match dialect {
        Dialect::Seed003 => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    assert_eq!(status, ok, "{email} through {dialect:?}: {answer}");
    match dialect {
        Dialect::Native => Session {
            access: text(&answer["token"]),
            refresh: text(&answer["refreshToken"]),
        },
        Dialect::Seed001 => Session {
            access: text(&answer["access"]),
            refresh: text(&answer["refresh"]),
        },
        Dialect::Seed002 => Session {
            access: text(&answer["data"]["access_token"]),
            refresh: text(&answer["data"]["refresh_token"]),
        },
        Dialect::Seed003 | Dialect::Kanban => Session {
            access: text(&answer["access_token"]),
            refresh: text(&answer["refresh_token"]),
        },
    }
}

/// Refreshes through `dialect`; answers the session's tokens after it.
async fn refresh(stack: &Stack, dialect: Dialect, session: &Session) -> Session {
    let (url, body) = match dialect {
        Dialect::Native => (
            auth(stack, "/api/v1/auth/token/refresh"),
            json!({"refreshToken": session.refresh}),
        ),
        Dialect::Seed001 => (
            auth(stack, "/auth/token/refresh"),
            json!({"refresh": session.refresh}),
        ),
        Dialect::Seed002 => (
            auth(stack, "/api/v1/token/refresh"),
            json!({"refresh_token": session.refresh}),
        ),
        Dialect::Seed003 => (
            auth(stack, "/login/refresh"),
            json!({"refresh_token": session.refresh}),
        ),
        Dialect::Kanban => unreachable!("seed 000 has no refresh"),
    };
    let (status, answer) = call(stack, Method::POST, url, &[], body).await;
    assert!(
        status.is_success(),
        "refresh through {dialect:?}: {status} {answer}"
    );
    match dialect {
        Dialect::Native => Session {
            access: text(&answer["token"]),
            refresh: text(&answer["refreshToken"]),
        },
        Dialect::Seed001 => Session {
            access: text(&answer["access"]),
            refresh: text(&answer["refresh"]),
        },
        Dialect::Seed002 => Session {
            access: text(&answer["data"]["access_token"]),
            refresh: text(&answer["data"]["refresh_token"]),
        },
        // Seed 003 keeps its refresh token.
        _ => Session {
            access: text(&answer["access_token"]),
            refresh: session.refresh.clone(),
        },
    }
}

/// Logs out through `dialect` (seed 000 has no logout).
async fn logout(stack: &Stack, dialect: Dialect, session: &Session) {
    let bearer = format!("Bearer {}", session.access);
    let (method, url, headers, body) = match dialect {
        Dialect::Native => (
            Method::POST,
            auth(stack, "/api/v1/auth/logout"),
            vec![("authorization", bearer.as_str())],
            json!({}),
        ),
        Dialect::Seed002 => (
            Method::POST,
            auth(stack, "/api/v1/logout"),
            vec![("authorization", bearer.as_str())],
            json!({"token": session.refresh}),
        ),
        Dialect::Seed003 => (
            Method::DELETE,
            auth(stack, "/login"),
            vec![("x-access-token", session.access.as_str())],
            json!({"refresh_token": session.refresh}),
        ),
        other => unreachable!("{other:?} has no logout"),
    };
    let (status, answer) = call(stack, method, url, &headers, body).await;
    assert!(
        status.is_success(),
        "logout through {dialect:?}: {status} {answer}"
    );
}

/// The access token works at kanban and at the account manager.
async fn assert_works(stack: &Stack, session: &Session, what: &str) {
    assert_eq!(
        stack
            .user_status_at(&stack.kanban_url, &session.access)
            .await,
        StatusCode::OK,
        "{what} at kanban"
    );
    assert_eq!(
        stack.me_status(&session.access).await,
        StatusCode::OK,
        "{what} at the account manager"
    );
}

#[tokio::test]
async fn an_account_of_any_dialect_signs_in_through_every_other() {
    let stack = spawn_stack().await;
    // The first account is the admin.
    register(&stack, Dialect::Native, "admin").await;
    let admin = sign_in(&stack, Dialect::Native, "admin@example.com").await;

    let names = ["nia", "sid", "lara", "xena", "kai"];
    for (dialect, name) in ALL.into_iter().zip(names) {
        register(&stack, dialect, name).await;
    }
    for name in names {
        let email = format!("{name}@example.com");
        for dialect in ALL {
            let session = sign_in(&stack, dialect, &email).await;
            assert_works(&stack, &session, &format!("{name} through {dialect:?}")).await;
        }
    }

    // Refresh in one dialect, log out in another: the session ends for
    // every verifier at once.
    let pairs = [
        (Dialect::Native, Dialect::Seed001, Dialect::Seed002),
        (Dialect::Seed001, Dialect::Seed002, Dialect::Seed003),
        (Dialect::Seed002, Dialect::Native, Dialect::Native),
        (Dialect::Seed003, Dialect::Seed003, Dialect::Seed002),
        (Dialect::Seed003, Dialect::Native, Dialect::Native),
        (Dialect::Kanban, Dialect::Seed001, Dialect::Seed003),
    ];
    for (opened, refreshed, ended) in pairs {
        let session = sign_in(&stack, opened, "sid@example.com").await;
        let session = refresh(&stack, refreshed, &session).await;
        assert_works(
            &stack,
            &session,
            &format!("{opened:?} refreshed by {refreshed:?}"),
        )
        .await;
        logout(&stack, ended, &session).await;
        until_refused(&stack, &session.access).await;
        assert_eq!(
            stack.me_status(&session.access).await,
            StatusCode::UNAUTHORIZED
        );
        let (url, body) = match refreshed {
            Dialect::Seed003 => (
                auth(&stack, "/login/refresh"),
                json!({"refresh_token": session.refresh}),
            ),
            _ => (
                auth(&stack, "/api/v1/auth/token/refresh"),
                json!({"refreshToken": session.refresh}),
            ),
        };
        let (status, _) = call(&stack, Method::POST, url, &[], body).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{opened:?}/{refreshed:?}/{ended:?}"
        );
    }

    // A ban: every session of the account dies, and every dialect refuses
    // the sign-in in its own words.
    let kept = sign_in(&stack, Dialect::Seed003, "lara@example.com").await;
    let lara = {
        let (status, me) = call(
            &stack,
            Method::GET,
            auth(&stack, "/api/v1/auth/me"),
            &[("authorization", &format!("Bearer {}", kept.access))],
            json!(null),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        me["id"].as_i64().unwrap()
    };
    let (status, answer) = call(
        &stack,
        Method::PATCH,
        auth(&stack, &format!("/api/v1/admin/users/{lara}")),
        &[("authorization", &format!("Bearer {}", admin.access))],
        json!({"status": "banned", "reason": "spam"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    until_refused(&stack, &kept.access).await;
    for dialect in ALL {
        let (url, body) = sign_in_request(&stack, dialect, "lara@example.com");
        let (status, answer) = call(&stack, Method::POST, url, &[], body).await;
        let (expected, shape_ok) = match dialect {
            Dialect::Native => (StatusCode::FORBIDDEN, answer["msg"].is_string()),
            Dialect::Seed001 => (StatusCode::UNAUTHORIZED, answer["code"] == "user_banned"),
            Dialect::Seed002 => (StatusCode::FORBIDDEN, answer["code"] == 403),
            Dialect::Seed003 => (
                StatusCode::UNAUTHORIZED,
                answer["status"] == "BAD REQUEST" && answer["reason"].is_string(),
            ),
            Dialect::Kanban => (StatusCode::FORBIDDEN, answer["msg"].is_string()),
        };
        assert_eq!(status, expected, "{dialect:?}: {answer}");
        assert!(shape_ok, "{dialect:?}: {answer}");
    }
}
