use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, claims_of, expect, spawn_app};

#[tokio::test]
async fn login_answers_200_with_a_new_session() {
    let app = spawn_app().await;
    let registered = app.register("ann@example.com").await;
    for path in ["/api/v1/login/email", "/api/v1/auth/login/email"] {
        let body = json!({"email": "ANN@example.com", "password": PASSWORD});
        let answer = expect(app.post(path, &body).await, StatusCode::OK).await;
        assert_eq!(answer["userId"], 1);
        for field in [
            "token",
            "tokenIssuedDate",
            "tokenExpiredDate",
            "refreshToken",
            "refreshTokenExpiredDate",
        ] {
            assert!(answer[field].is_string(), "{field}");
        }
        let token = answer["token"].as_str().unwrap();
        assert_ne!(
            claims_of(token)["sid"],
            claims_of(registered["token"].as_str().unwrap())["sid"]
        );
        expect(app.me(token).await, StatusCode::OK).await;
    }
}

#[tokio::test]
async fn missing_credentials_answer_400() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"email": "a@example.com"}),
        json!({"password": PASSWORD}),
        json!({"email": "", "password": ""}),
    ] {
        let answer = expect(
            app.post("/api/v1/login/email", &body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(answer["msg"], "Bad Request: Email and password required.");
        assert_eq!(answer["humanMsg"], "Please enter your account information");
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    let wrong = app
        .post(
            "/api/v1/login/email",
            &json!({"email": "ann@example.com", "password": "wrong password"}),
        )
        .await;
    let wrong = expect(wrong, StatusCode::BAD_REQUEST).await;
    let unknown = app
        .post(
            "/api/v1/login/email",
            &json!({"email": "nobody@example.com", "password": PASSWORD}),
        )
        .await;
    let unknown = expect(unknown, StatusCode::BAD_REQUEST).await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["msg"], "Bad Request: Invalid email or password.");
    let malformed = app
        .post(
            "/api/v1/login/email",
            &json!({"email": "not an email", "password": PASSWORD}),
        )
        .await;
    assert_eq!(expect(malformed, StatusCode::BAD_REQUEST).await, wrong);
}

#[tokio::test]
async fn disabled_accounts_answer_401_with_a_resolve_link_and_banned_403() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    app.register("bob@example.com").await;
    app.db
        .execute("UPDATE users SET status = 'disabled' WHERE email = 'ann@example.com'")
        .await;
    app.db
        .execute("UPDATE users SET status = 'banned' WHERE email = 'bob@example.com'")
        .await;

    let disabled = app
        .post(
            "/api/v1/login/email",
            &json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        expect(disabled, StatusCode::UNAUTHORIZED).await,
        json!({"msg": "Unauthorized: User account is disabled.", "humanMsg": "This account is disabled.", "resolve": "/api/v1/reactivate/email", "code": "account_disabled"})
    );
    let banned = app
        .post(
            "/api/v1/login/email",
            &json!({"email": "bob@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        expect(banned, StatusCode::FORBIDDEN).await,
        json!({"msg": "Forbidden: User has been banned.", "humanMsg": "This account is suspended.", "code": "account_banned"})
    );
    // Without the right password, the account's state is not revealed.
    let guess = app
        .post(
            "/api/v1/login/email",
            &json!({"email": "bob@example.com", "password": "guess123"}),
        )
        .await;
    assert_eq!(
        expect(guess, StatusCode::BAD_REQUEST).await["msg"],
        "Bad Request: Invalid email or password."
    );
}

#[tokio::test]
async fn old_password_hashes_are_upgraded_at_login() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    // A hash made with weaker parameters (m=1024, t=1) of the same password.
    let weak = argon2_hash_with(1024, 1);
    app.db
        .execute(&format!(
            "UPDATE users SET password_hash = '{weak}' WHERE id = 1"
        ))
        .await;
    app.login("ann@example.com").await;
    let db = sea_orm::Database::connect(&app.db.url).await.unwrap();
    let row = <auth_service::entity::user::Entity as sea_orm::EntityTrait>::find_by_id(1)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let upgraded = row.password_hash.unwrap();
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
        "{upgraded}"
    );
    app.login("ann@example.com").await;
}

#[tokio::test]
async fn an_account_state_the_service_does_not_know_is_an_error_not_a_guess() {
    let app = spawn_app().await;
    app.register("ann@example.com").await;
    app.db
        .execute("UPDATE users SET status = 'frozen' WHERE id = 1")
        .await;
    let answer = expect(
        app.post(
            "/api/v1/login/email",
            &json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await,
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;
    assert_eq!(
        answer,
        json!({"msg": "Internal server error", "code": "internal"})
    );
}

fn argon2_hash_with(memory_kib: u32, iterations: u32) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(memory_kib, iterations, 1, None).unwrap();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string()
}
