//! Session lists: users see and end their own sessions, admins anyone's;
//! and the admin user search.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, expect, spawn_app};

fn token(answer: &Value) -> &str {
    answer["token"].as_str().expect("an access token")
}

fn sid(answer: &Value) -> String {
    crate::helpers::claims_of(token(answer))["sid"]
        .as_str()
        .expect("a session id")
        .to_owned()
}

async fn login_from(app: &TestApp, email: &str, agent: &str) -> Value {
    let answer = app
        .client
        .post(app.url("/api/v1/login/email"))
        .header("User-Agent", agent)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect(answer, StatusCode::OK).await
}

#[tokio::test]
async fn users_list_and_end_their_own_sessions() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let bob = app.register("bob@example.com").await;
    app.register("ann@example.com").await;
    let phone = login_from(&app, "ann@example.com", "Phone/1.0").await;
    let laptop = login_from(&app, "ann@example.com", "Laptop/2.0").await;
    let tablet = login_from(&app, "ann@example.com", "Tablet/3.0").await;

    let listed = expect(
        app.get_auth("/api/v1/auth/sessions", token(&laptop)).await,
        StatusCode::OK,
    )
    .await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 4, "registration, phone, laptop, tablet");
    let current: Vec<_> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], sid(&laptop));
    assert_eq!(current[0]["userAgent"], "Laptop/2.0");
    assert_eq!(current[0]["ipAddress"], "127.0.0.1");
    assert!(current[0]["lastUsedAt"].is_string() && current[0]["createdAt"].is_string());

    // End the phone's session: its tokens die, the others live.
    let path = format!("/api/v1/auth/sessions/{}", sid(&phone));
    assert_eq!(
        app.delete_auth(&path, token(&laptop)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.me(token(&phone)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(phone["refreshToken"].as_str().unwrap())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(token(&tablet)).await.status(), StatusCode::OK);
    // Ended, unknown or someone else's: 404.
    for other in [sid(&phone), "no-such-session".to_owned(), sid(&bob)] {
        let answer = app
            .delete_auth(&format!("/api/v1/auth/sessions/{other}"), token(&laptop))
            .await;
        assert_eq!(
            expect(answer, StatusCode::NOT_FOUND).await["code"],
            "session_not_found"
        );
    }
    assert_eq!(app.me(token(&bob)).await.status(), StatusCode::OK);

    // End all others: only the caller's remains.
    assert_eq!(
        app.delete_auth("/api/v1/auth/sessions", token(&laptop))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.me(token(&tablet)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(token(&laptop)).await.status(), StatusCode::OK);
    let listed = expect(
        app.get_auth("/api/v1/auth/sessions", token(&laptop)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Admins see and end anyone's; others may not.
    let ann_id = laptop["userId"].as_i64().unwrap();
    let path = format!("/api/v1/admin/users/{ann_id}/sessions");
    assert_eq!(
        app.get_auth(&path, token(&bob)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete_auth(&path, token(&bob)).await.status(),
        StatusCode::FORBIDDEN
    );
    let seen = expect(app.get_auth(&path, token(&admin)).await, StatusCode::OK).await;
    assert_eq!(seen[0]["id"], sid(&laptop));
    assert_eq!(seen[0]["current"], false);
    let one = format!("{path}/{}", sid(&laptop));
    assert_eq!(
        app.delete_auth(&one, token(&bob)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete_auth(&one, token(&admin)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.me(token(&laptop)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let again = login_from(&app, "ann@example.com", "Laptop/2.0").await;
    assert_eq!(
        app.delete_auth(&path, token(&admin)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.me(token(&again)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let nobody = app
        .get_auth("/api/v1/admin/users/999999/sessions", token(&admin))
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admins_search_users_by_text_status_and_role_in_pages() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    for (email, first, last) in [
        ("ann.lee@example.com", "Ann", "Lee"),
        ("bob@example.com", "Bob", "Leeds"),
        ("carol@example.org", "Carol", "King"),
        ("dan_100%@example.org", "Dan", "Young"),
    ] {
        let body = json!({"email": email, "password": PASSWORD, "password2": PASSWORD, "firstName": first, "lastName": last});
        assert_eq!(
            app.post("/api/v1/register/email", &body).await.status(),
            StatusCode::CREATED
        );
    }
    let search = |query: &'static str| {
        let app = &app;
        let admin = &admin;
        async move {
            let answer = app
                .get_auth(&format!("/api/v1/admin/users{query}"), token(admin))
                .await;
            expect(answer, StatusCode::OK).await
        }
    };
    let emails = |page: &Value| -> Vec<String> {
        page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    };

    let all = search("").await;
    assert_eq!(
        (
            all["total"].as_u64(),
            all["limit"].as_u64(),
            all["offset"].as_u64()
        ),
        (Some(5), Some(20), Some(0))
    );
    assert_eq!(
        emails(&search("?q=LEE").await),
        vec!["ann.lee@example.com", "bob@example.com"]
    );
    assert_eq!(
        emails(&search("?q=example.org").await),
        vec!["carol@example.org", "dan_100%@example.org"]
    );
    // Wildcards are taken literally.
    assert_eq!(
        emails(&search("?q=_100%25").await),
        vec!["dan_100%@example.org"]
    );
    assert_eq!(search("?q=%25").await["total"], 1);
    assert_eq!(
        emails(&search("?role=admin").await),
        vec!["admin@example.com"]
    );

    let page = search("?limit=2&offset=1").await;
    assert_eq!(
        emails(&page),
        vec!["ann.lee@example.com", "bob@example.com"]
    );
    assert_eq!(page["total"], 5);

    let carol = all["users"][3]["id"].as_i64().unwrap();
    let ban = json!({"status": "banned", "reason": "spam"});
    let banned = app
        .patch_auth(&format!("/api/v1/admin/users/{carol}"), token(&admin), &ban)
        .await;
    assert_eq!(banned.status(), StatusCode::OK);
    let banned = search("?status=banned").await;
    assert_eq!(emails(&banned), vec!["carol@example.org"]);
    assert_eq!(banned["users"][0]["banReason"], "spam");
    assert_eq!(search("?status=active").await["total"], 4);
    assert_eq!(search("?status=disabled").await["total"], 0);

    let one = expect(
        app.get_auth(&format!("/api/v1/admin/users/{carol}"), token(&admin))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (one["firstName"].as_str(), one["status"].as_str()),
        (Some("Carol"), Some("banned"))
    );
    assert!(one.get("passwordHash").is_none() && !one.to_string().contains("argon2"));

    for bad in [
        "?limit=0",
        "?limit=101",
        "?offset=-1",
        "?limit=abc",
        "?status=frozen",
        "?role=root",
        "?offset=99999999999",
    ] {
        let answer = app
            .get_auth(&format!("/api/v1/admin/users{bad}"), token(&admin))
            .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let user = app.login("bob@example.com").await;
    for path in [
        "/api/v1/admin/users",
        &format!("/api/v1/admin/users/{carol}"),
    ] {
        assert_eq!(
            app.get_auth(path, token(&user)).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let nobody = app
        .get_auth("/api/v1/admin/users/999999", token(&admin))
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/admin/users").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
