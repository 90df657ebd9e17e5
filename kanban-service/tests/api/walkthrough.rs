//! The seed-000 walkthrough, as a frontend written for that document does it.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, expect, expect_msg, id, spawn_stack};

#[tokio::test]
async fn register_and_login_through_kanban_in_the_seed_shapes() {
    let stack = spawn_stack().await;
    let body = json!({"first_name": "John", "last_name": "Doe", "email": "JohnDoe@mail.com", "password": PASSWORD});
    let registered = expect(
        stack
            .send(Method::POST, "/register", None, Some(body.clone()))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(registered, json!({"id": 1, "email": "johndoe@mail.com"}));
    expect_msg(
        stack
            .send(Method::POST, "/register", None, Some(body))
            .await,
        StatusCode::BAD_REQUEST,
        "Email has already been taken",
    )
    .await;

    let cases = [
        (
            json!({}),
            "First name is required, Second name is required, Email is required, Password is required",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "email": "nope", "password": PASSWORD}),
            "Please fill email with correct format (yourmail@mail.com)",
        ),
        (
            json!({"first_name": "A b", "last_name": "C d", "email": "a@mail.com", "password": PASSWORD}),
            "First name cannot contain space, Second name cannot contain space",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "email": "a@mail.com", "password": "12345"}),
            "Password should be minimum 6 characters",
        ),
    ];
    for (body, msg) in cases {
        expect_msg(
            stack
                .send(Method::POST, "/register", None, Some(body))
                .await,
            StatusCode::BAD_REQUEST,
            msg,
        )
        .await;
    }

    let login = json!({"email": "johndoe@mail.com", "password": PASSWORD});
    let answer = expect(
        stack.send(Method::POST, "/login", None, Some(login)).await,
        StatusCode::OK,
    )
    .await;
    assert!(answer["access_token"].is_string());
    assert_eq!(answer["email"], "johndoe@mail.com");
    assert_eq!(answer["username"], "johndoe");
    assert_eq!(
        (answer["first_name"].as_str(), answer["last_name"].as_str()),
        (Some("John"), Some("Doe"))
    );
    // Kanban's own avatar of the initials, never a third party's.
    let picture = answer["profile_picture"].as_str().unwrap();
    assert!(
        picture.starts_with(&format!("{}/avatars/JD-", stack.kanban_url)),
        "{picture}"
    );
    let wrong = json!({"email": "johndoe@mail.com", "password": "wrong-password"});
    expect_msg(
        stack.send(Method::POST, "/login", None, Some(wrong)).await,
        StatusCode::UNAUTHORIZED,
        "Wrong email or password",
    )
    .await;
    let unknown = json!({"email": "nobody@mail.com", "password": PASSWORD});
    expect_msg(
        stack
            .send(Method::POST, "/login", None, Some(unknown))
            .await,
        StatusCode::UNAUTHORIZED,
        "Wrong email or password",
    )
    .await;
    let google = json!({"google_access_token": "x"});
    expect_msg(
        stack
            .send(Method::POST, "/google-login", None, Some(google))
            .await,
        StatusCode::UNAUTHORIZED,
        "Google authentication failed",
    )
    .await;

    // The same login works at the account manager directly: one account.
    let direct = stack
        .client
        .post(format!("{}/api/v1/auth/login/email", stack.auth_url))
        .json(&json!({"email": "johndoe@mail.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_board_walkthrough() {
    let stack = spawn_stack().await;
    let john = stack.user("John", "Doe", "john@mail.com").await;
    let jane = stack.user("Jane", "Doe", "jane@mail.com").await;

    // The current user, and a name change that shows in later answers.
    let me = expect(stack.get("/user", &john).await, StatusCode::OK).await;
    assert_eq!(me["name"], "John Doe");
    assert_eq!(me["email"], "john@mail.com");
    expect(
        stack
            .patch(
                "/user",
                &john,
                json!({"first_name": "Johnny", "last_name": "Doe"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        expect(stack.get("/user", &john).await, StatusCode::OK).await["name"],
        "Johnny Doe"
    );

    // An organization comes with the four default categories.
    let organization = stack.organization(&john, "Hacktiv8").await;
    let org = id(&organization);
    assert_eq!(organization["UserId"], john.id);
    let names: Vec<&str> = organization["Categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Backlog", "Todo", "Doing", "Done"]);
    for (index, category) in organization["Categories"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(category["type"], "Default");
        assert_eq!(category["position"], index as i64 + 1);
        assert_eq!(category["OrganizationId"], org);
    }
    let todo = id(&organization["Categories"][1]);
    let doing = id(&organization["Categories"][2]);

    // A custom category, a tag, a member.
    let deploy = expect(
        stack
            .post(
                "/categories",
                &john,
                json!({"name": "Deploy", "OrganizationId": org}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (deploy["type"].as_str(), deploy["position"].as_i64()),
        (Some("Custom"), Some(5))
    );
    let tag = expect(
        stack
            .post(
                "/tags",
                &john,
                json!({"name": "Important", "color": "#ff0000", "OrganizationId": org}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(tag["color"], "#FF0000");
    stack.add_member(&john, org, &jane, "member").await;
    let members = expect(
        stack
            .get(&format!("/organizations/{org}/members"), &john)
            .await,
        StatusCode::OK,
    )
    .await;
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [("john@mail.com", "Owner"), ("jane@mail.com", "Member")]
    );
    assert_eq!(members[1]["name"], "Jane Doe");

    // Tasks with an assignee and a tag.
    let first = stack.task(&john, org, todo, "First Task").await;
    assert_eq!(
        (first["OwnerId"].as_i64(), first["UserId"].as_i64()),
        (Some(john.id), Some(john.id))
    );
    assert_eq!(first["description"], serde_json::Value::Null);
    let second = stack.task(&jane, org, todo, "Second Task").await;
    let first_id = id(&first);
    expect(
        stack
            .post(
                &format!("/tasks/{first_id}/assignee"),
                &john,
                json!({"UserEmail": "jane@mail.com"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    expect(
        stack
            .post(
                &format!("/tasks/{first_id}/addTag"),
                &john,
                json!({"TagId": id(&tag)}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;

    // Lists by category and by tag, in the seed's shape.
    let by_category = expect(
        stack.get(&format!("/tasks?CategoryId={todo}"), &jane).await,
        StatusCode::OK,
    )
    .await;
    let titles: Vec<&str> = by_category
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["First Task", "Second Task"]);
    let card = &by_category[0];
    assert_eq!(card["category"], "Todo");
    assert_eq!(card["OwnerId"], john.id);
    assert_eq!(card["user"]["name"], "Johnny Doe");
    let picture = card["user"]["profile_picture"].as_str().unwrap();
    assert!(
        picture.starts_with(&format!("{}/avatars/JD-", stack.kanban_url)),
        "{picture}"
    );
    assert_eq!(card["assignees"][0]["email"], "jane@mail.com");
    assert_eq!(card["tags"][0]["name"], "Important");
    let by_tag = expect(
        stack
            .get(&format!("/tasks?TagId={}", id(&tag)), &john)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_tag.as_array().unwrap().len(), 1);
    let response = stack
        .get(&format!("/tasks?OrganizationId={org}"), &john)
        .await;
    assert_eq!(response.headers()["x-total-count"], "2");

    // Edit (PUT) by the assignee, move (PATCH), delete.
    let edited = stack
        .put(&format!("/tasks/{first_id}"), &jane, json!({"title": "First Task", "description": "My first task", "due_date": "2020-10-10"}))
        .await;
    let edited = expect(edited, StatusCode::OK).await;
    assert_eq!(edited["due_date"], "2020-10-10T00:00:00.000Z");
    assert_eq!(edited["description"], "My first task");
    let moved = expect(
        stack
            .patch(
                &format!("/tasks/{first_id}"),
                &john,
                json!({"CategoryId": doing}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (moved["CategoryId"].as_i64(), moved["position"].as_i64()),
        (Some(doing), Some(1))
    );
    let rest = expect(
        stack.get(&format!("/tasks?CategoryId={todo}"), &john).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rest[0]["position"], 1, "positions stay dense after a move");
    expect_msg(
        stack
            .delete(&format!("/tasks/{}", id(&second)), &jane)
            .await,
        StatusCode::OK,
        "Task has been deleted",
    )
    .await;

    // Rename and reposition a category.
    let renamed = expect(
        stack
            .patch(
                &format!("/categories/{}", id(&deploy)),
                &john,
                json!({"name": "Deployment", "position": 1}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (renamed["name"].as_str(), renamed["position"].as_i64()),
        (Some("Deployment"), Some(1))
    );
    let categories = expect(
        stack
            .get(&format!("/categories?OrganizationId={org}"), &john)
            .await,
        StatusCode::OK,
    )
    .await;
    let order: Vec<(&str, i64)> = categories
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["position"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            ("Deployment", 1),
            ("Backlog", 2),
            ("Todo", 3),
            ("Doing", 4),
            ("Done", 5)
        ]
    );

    // An empty category is deleted (one with tasks goes with them: see
    // deleting_a_category_deletes_its_tasks_and_nothing_else).
    expect_msg(
        stack
            .delete(&format!("/categories/{}", id(&deploy)), &john)
            .await,
        StatusCode::OK,
        "Category has been deleted",
    )
    .await;

    // The organization list shows categories by position and the tags.
    let organizations = expect(stack.get("/organizations", &jane).await, StatusCode::OK).await;
    assert_eq!(organizations[0]["Tags"][0]["name"], "Important");
    assert_eq!(organizations[0]["Categories"].as_array().unwrap().len(), 4);

    // Deleting the organization takes everything with it.
    expect_msg(
        stack.delete(&format!("/organizations/{org}"), &john).await,
        StatusCode::OK,
        "Organization has been deleted",
    )
    .await;
    expect(
        stack.get(&format!("/tasks/{first_id}"), &john).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        expect(stack.get("/organizations", &john).await, StatusCode::OK).await,
        json!([])
    );
    expect(
        stack
            .get(&format!("/categories?OrganizationId={org}"), &john)
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn deleting_a_category_deletes_its_tasks_and_nothing_else() {
    let stack = spawn_stack().await;
    let owner = stack.user("Olga", "Owner", "olga@example.com").await;
    let org = id(&stack.organization(&owner, "Deletions").await);
    let categories = expect(
        stack
            .get(&format!("/categories?OrganizationId={org}"), &owner)
            .await,
        StatusCode::OK,
    )
    .await;
    let categories: Vec<i64> = categories.as_array().unwrap().iter().map(id).collect();
    assert!(
        categories.len() >= 2,
        "an organization starts with categories"
    );
    let (doomed, kept) = (categories[0], categories[1]);
    let gone = [
        id(&stack.task(&owner, org, doomed, "first").await),
        id(&stack.task(&owner, org, doomed, "second").await),
    ];
    let stays = id(&stack.task(&owner, org, kept, "elsewhere").await);

    expect_msg(
        stack.delete(&format!("/categories/{doomed}"), &owner).await,
        StatusCode::OK,
        "Category has been deleted",
    )
    .await;
    for task in gone {
        let answer = stack.get(&format!("/tasks/{task}"), &owner).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "task {task}");
    }
    let left = expect(
        stack
            .get(&format!("/tasks?CategoryId={kept}"), &owner)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(id(&left[0]), stays);
    assert_eq!(left[0]["position"], 1);
    let rest = expect(
        stack
            .get(&format!("/categories?OrganizationId={org}"), &owner)
            .await,
        StatusCode::OK,
    )
    .await;
    let rest: Vec<i64> = rest.as_array().unwrap().iter().map(id).collect();
    assert_eq!(
        rest,
        categories[1..].to_vec(),
        "the others keep their order"
    );
}
