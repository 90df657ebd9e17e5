//! For every route: an outsider, a member, an admin, the task's owner and an
//! assignee each get the documented status and `msg`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Stack, User, expect, id, spawn_stack};

const HIDDEN: &str = "Organization not found or you are not authorized to see this organization";
const NOT_MEMBER: &str = "Authorization failed, you are not a member of this organization";
const NOT_ADMIN: &str = "Authorization failed, you are not admin of this organization";
const NOT_EDITOR: &str = "Authorization failed, only task owner and assignee can edit this task";

async fn check(
    stack: &Stack,
    who: (&str, &User),
    method: Method,
    path: &str,
    body: Option<Value>,
    status: StatusCode,
    msg: Option<&str>,
) {
    let response = stack
        .send(method.clone(), path, Some(&who.1.token), body)
        .await;
    let actual = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "{} {method} {path}: {answer}", who.0);
    if let Some(msg) = msg {
        assert_eq!(answer["msg"], msg, "{} {method} {path}", who.0);
    }
}

#[tokio::test]
async fn every_route_answers_each_role_as_documented() {
    let stack = spawn_stack().await;
    let admin = stack.user("Ada", "Admin", "admin@mail.com").await;
    let member = stack.user("Max", "Member", "member@mail.com").await;
    let owner = stack.user("Olga", "Owner", "owner@mail.com").await;
    let assignee = stack.user("Abe", "Assignee", "assignee@mail.com").await;
    let outsider = stack.user("Otto", "Outsider", "outsider@mail.com").await;

    let organization = stack.organization(&admin, "Board").await;
    let org = id(&organization);
    let todo = id(&organization["Categories"][1]);
    for user in [&member, &owner, &assignee] {
        stack.add_member(&admin, org, user, "member").await;
    }
    let task = stack.task(&owner, org, todo, "Owned").await;
    let task_id = id(&task);
    expect(
        stack
            .post(
                &format!("/tasks/{task_id}/assignee"),
                &owner,
                json!({"UserEmail": assignee.email}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let tag = expect(
        stack
            .post(
                "/tags",
                &admin,
                json!({"name": "T", "color": "#00FF00", "OrganizationId": org}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let tag_id = id(&tag);
    let spare = expect(
        stack
            .post(
                "/categories",
                &admin,
                json!({"name": "Spare", "OrganizationId": org}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let spare_id = id(&spare);

    use StatusCode as S;
    let out = ("outsider", &outsider);
    let mem = ("member", &member);
    let adm = ("admin", &admin);
    let own = ("owner", &owner);
    let asg = ("assignee", &assignee);

    // Organization reads.
    for path in [
        format!("/organizations/{org}"),
        format!("/organizations/{org}/members"),
    ] {
        check(
            &stack,
            out,
            Method::GET,
            &path,
            None,
            S::UNAUTHORIZED,
            Some(HIDDEN),
        )
        .await;
        check(&stack, mem, Method::GET, &path, None, S::OK, None).await;
    }
    let listed = expect(stack.get("/organizations", &outsider).await, S::OK).await;
    assert_eq!(
        listed,
        json!([]),
        "an outsider's list does not show the organization"
    );

    // Organization writes: admins only.
    let edit = json!({"name": "Renamed"});
    check(
        &stack,
        out,
        Method::PUT,
        &format!("/organizations/{org}"),
        Some(edit.clone()),
        S::UNAUTHORIZED,
        Some(HIDDEN),
    )
    .await;
    check(
        &stack,
        mem,
        Method::PUT,
        &format!("/organizations/{org}"),
        Some(edit.clone()),
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;
    check(
        &stack,
        adm,
        Method::PUT,
        &format!("/organizations/{org}"),
        Some(edit),
        S::OK,
        None,
    )
    .await;
    check(
        &stack,
        out,
        Method::DELETE,
        &format!("/organizations/{org}"),
        None,
        S::UNAUTHORIZED,
        Some(HIDDEN),
    )
    .await;
    check(
        &stack,
        mem,
        Method::DELETE,
        &format!("/organizations/{org}"),
        None,
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;

    // Members: admins manage them.
    let add = json!({"UserEmail": "outsider@mail.com"});
    check(
        &stack,
        out,
        Method::POST,
        &format!("/organizations/{org}/members"),
        Some(add.clone()),
        S::UNAUTHORIZED,
        Some(HIDDEN),
    )
    .await;
    check(
        &stack,
        mem,
        Method::POST,
        &format!("/organizations/{org}/members"),
        Some(add),
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;
    let promote = json!({"role": "admin"});
    let member_path = format!("/organizations/{org}/members/{}", member.id);
    check(
        &stack,
        out,
        Method::PATCH,
        &member_path,
        Some(promote.clone()),
        S::UNAUTHORIZED,
        Some(HIDDEN),
    )
    .await;
    check(
        &stack,
        mem,
        Method::PATCH,
        &format!("/organizations/{org}/members/{}", owner.id),
        Some(promote.clone()),
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;
    check(
        &stack,
        out,
        Method::DELETE,
        &member_path,
        None,
        S::UNAUTHORIZED,
        Some(HIDDEN),
    )
    .await;
    check(
        &stack,
        mem,
        Method::DELETE,
        &format!("/organizations/{org}/members/{}", owner.id),
        None,
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;

    // Categories and tags: members read, admins write; foreign ids are not found.
    for path in [
        format!("/categories?OrganizationId={org}"),
        format!("/tags?OrganizationId={org}"),
    ] {
        check(
            &stack,
            out,
            Method::GET,
            &path,
            None,
            S::UNAUTHORIZED,
            Some(NOT_MEMBER),
        )
        .await;
        check(&stack, mem, Method::GET, &path, None, S::OK, None).await;
    }
    let category = json!({"name": "New", "OrganizationId": org});
    check(
        &stack,
        out,
        Method::POST,
        "/categories",
        Some(category.clone()),
        S::UNAUTHORIZED,
        Some(NOT_MEMBER),
    )
    .await;
    check(
        &stack,
        mem,
        Method::POST,
        "/categories",
        Some(category),
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;
    let new_tag = json!({"name": "New", "color": "#000000", "OrganizationId": org});
    check(
        &stack,
        out,
        Method::POST,
        "/tags",
        Some(new_tag.clone()),
        S::UNAUTHORIZED,
        Some(NOT_MEMBER),
    )
    .await;
    check(
        &stack,
        mem,
        Method::POST,
        "/tags",
        Some(new_tag),
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;
    let rename = json!({"name": "Renamed"});
    check(
        &stack,
        out,
        Method::PATCH,
        &format!("/categories/{spare_id}"),
        Some(rename.clone()),
        S::NOT_FOUND,
        Some("Category not found"),
    )
    .await;
    check(
        &stack,
        mem,
        Method::PATCH,
        &format!("/categories/{spare_id}"),
        Some(rename.clone()),
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;
    check(
        &stack,
        adm,
        Method::PATCH,
        &format!("/categories/{spare_id}"),
        Some(rename.clone()),
        S::OK,
        None,
    )
    .await;
    check(
        &stack,
        out,
        Method::PUT,
        &format!("/tags/{tag_id}"),
        Some(rename.clone()),
        S::NOT_FOUND,
        Some("Tag not found"),
    )
    .await;
    check(
        &stack,
        mem,
        Method::PUT,
        &format!("/tags/{tag_id}"),
        Some(rename.clone()),
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;
    check(
        &stack,
        adm,
        Method::PUT,
        &format!("/tags/{tag_id}"),
        Some(rename),
        S::OK,
        None,
    )
    .await;
    check(
        &stack,
        out,
        Method::DELETE,
        &format!("/categories/{spare_id}"),
        None,
        S::NOT_FOUND,
        Some("Category not found"),
    )
    .await;
    check(
        &stack,
        mem,
        Method::DELETE,
        &format!("/categories/{spare_id}"),
        None,
        S::UNAUTHORIZED,
        Some(NOT_ADMIN),
    )
    .await;

    // Tasks: members read and create; only the owner and assignees change a task.
    check(
        &stack,
        out,
        Method::GET,
        &format!("/tasks?OrganizationId={org}"),
        None,
        S::UNAUTHORIZED,
        Some(NOT_MEMBER),
    )
    .await;
    check(
        &stack,
        mem,
        Method::GET,
        &format!("/tasks?OrganizationId={org}"),
        None,
        S::OK,
        None,
    )
    .await;
    check(
        &stack,
        out,
        Method::GET,
        &format!("/tasks/{task_id}"),
        None,
        S::NOT_FOUND,
        Some("Task not found"),
    )
    .await;
    check(
        &stack,
        mem,
        Method::GET,
        &format!("/tasks/{task_id}"),
        None,
        S::OK,
        None,
    )
    .await;
    let draft = json!({"title": "X", "OrganizationId": org, "CategoryId": todo});
    check(
        &stack,
        out,
        Method::POST,
        "/tasks",
        Some(draft.clone()),
        S::UNAUTHORIZED,
        Some(NOT_MEMBER),
    )
    .await;
    check(
        &stack,
        mem,
        Method::POST,
        "/tasks",
        Some(draft),
        S::CREATED,
        None,
    )
    .await;

    let task_path = format!("/tasks/{task_id}");
    let changes = [
        (Method::PUT, task_path.clone(), json!({"title": "Edited"})),
        (Method::PATCH, task_path.clone(), json!({"position": 1})),
        (
            Method::POST,
            format!("{task_path}/addTag"),
            json!({"TagId": tag_id}),
        ),
        (
            Method::POST,
            format!("{task_path}/assignee"),
            json!({"UserEmail": "assignee@mail.com"}),
        ),
    ];
    for (method, path, body) in changes {
        check(
            &stack,
            out,
            method.clone(),
            &path,
            Some(body.clone()),
            S::NOT_FOUND,
            Some("Task not found"),
        )
        .await;
        check(
            &stack,
            mem,
            method.clone(),
            &path,
            Some(body.clone()),
            S::UNAUTHORIZED,
            Some(NOT_EDITOR),
        )
        .await;
        check(
            &stack,
            adm,
            method.clone(),
            &path,
            Some(body.clone()),
            S::UNAUTHORIZED,
            Some(NOT_EDITOR),
        )
        .await;
        let ok = if method == Method::POST {
            S::CREATED
        } else {
            S::OK
        };
        check(
            &stack,
            own,
            method.clone(),
            &path,
            Some(body.clone()),
            ok,
            None,
        )
        .await;
        check(&stack, asg, method, &path, Some(body), ok, None).await;
    }
    for who in [out] {
        check(
            &stack,
            who,
            Method::DELETE,
            &format!("{task_path}/removeTag/{tag_id}"),
            None,
            S::NOT_FOUND,
            Some("Task not found"),
        )
        .await;
    }
    check(
        &stack,
        mem,
        Method::DELETE,
        &format!("{task_path}/removeTag/{tag_id}"),
        None,
        S::UNAUTHORIZED,
        Some(NOT_EDITOR),
    )
    .await;
    check(
        &stack,
        asg,
        Method::DELETE,
        &format!("{task_path}/removeTag/{tag_id}"),
        None,
        S::OK,
        None,
    )
    .await;
    check(
        &stack,
        out,
        Method::DELETE,
        &task_path,
        None,
        S::NOT_FOUND,
        Some("Task not found"),
    )
    .await;
    check(
        &stack,
        mem,
        Method::DELETE,
        &task_path,
        None,
        S::UNAUTHORIZED,
        Some(NOT_EDITOR),
    )
    .await;
    check(
        &stack,
        adm,
        Method::DELETE,
        &task_path,
        None,
        S::UNAUTHORIZED,
        Some(NOT_EDITOR),
    )
    .await;
    check(&stack, asg, Method::DELETE, &task_path, None, S::OK, None).await;

    // Admin-only writes that remove things, last.
    check(
        &stack,
        adm,
        Method::PATCH,
        &member_path,
        Some(promote),
        S::OK,
        None,
    )
    .await;
    check(
        &stack,
        adm,
        Method::DELETE,
        &format!("/organizations/{org}/members/{}", owner.id),
        None,
        S::OK,
        None,
    )
    .await;
    check(
        &stack,
        adm,
        Method::DELETE,
        &format!("/tags/{tag_id}"),
        None,
        S::OK,
        None,
    )
    .await;
    check(
        &stack,
        adm,
        Method::DELETE,
        &format!("/categories/{spare_id}"),
        None,
        S::OK,
        None,
    )
    .await;
    check(
        &stack,
        adm,
        Method::DELETE,
        &format!("/organizations/{org}"),
        None,
        S::OK,
        None,
    )
    .await;
}

#[tokio::test]
async fn the_last_admin_stays() {
    let stack = spawn_stack().await;
    let admin = stack.user("Ada", "Admin", "admin@mail.com").await;
    let member = stack.user("Max", "Member", "member@mail.com").await;
    let org = id(&stack.organization(&admin, "Board").await);
    stack.add_member(&admin, org, &member, "member").await;
    let me = format!("/organizations/{org}/members/{}", admin.id);
    let last = "An organization needs at least one admin";
    let demote = stack.patch(&me, &admin, json!({"role": "member"})).await;
    assert_eq!(expect(demote, StatusCode::BAD_REQUEST).await["msg"], last);
    assert_eq!(
        expect(stack.delete(&me, &admin).await, StatusCode::BAD_REQUEST).await["msg"],
        last
    );
    // With a second admin, the first may step down.
    expect(
        stack
            .patch(
                &format!("/organizations/{org}/members/{}", member.id),
                &admin,
                json!({"role": "admin"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        stack.patch(&me, &admin, json!({"role": "member"})).await,
        StatusCode::OK,
    )
    .await;
    // Adding an existing member or an unknown email is refused.
    let again = stack
        .post(
            &format!("/organizations/{org}/members"),
            &member,
            json!({"UserEmail": "admin@mail.com"}),
        )
        .await;
    assert_eq!(
        expect(again, StatusCode::BAD_REQUEST).await["msg"],
        "User is already a member of this organization"
    );
    let unknown = stack
        .post(
            &format!("/organizations/{org}/members"),
            &member,
            json!({"UserEmail": "ghost@mail.com"}),
        )
        .await;
    assert_eq!(
        expect(unknown, StatusCode::NOT_FOUND).await["msg"],
        "User not found"
    );
}

#[tokio::test]
async fn ids_of_another_organization_are_refused_never_linked() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let bob = stack.user("Bob", "B", "bob@mail.com").await;
    let mine = stack.organization(&ann, "Mine").await;
    let theirs = stack.organization(&bob, "Theirs").await;
    let (my_org, my_todo) = (id(&mine), id(&mine["Categories"][1]));
    let (their_org, their_todo) = (id(&theirs), id(&theirs["Categories"][1]));
    let their_tag = expect(
        stack
            .post(
                "/tags",
                &bob,
                json!({"name": "Theirs", "color": "#123456", "OrganizationId": their_org}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let task = stack.task(&ann, my_org, my_todo, "Mine").await;
    let task_id = id(&task);

    // A category of another organization.
    let foreign_category =
        json!({"title": "X", "OrganizationId": my_org, "CategoryId": their_todo});
    expect(
        stack.post("/tasks", &ann, foreign_category).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect(
        stack
            .patch(
                &format!("/tasks/{task_id}"),
                &ann,
                json!({"CategoryId": their_todo}),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect(
        stack
            .put(
                &format!("/tasks/{task_id}"),
                &ann,
                json!({"CategoryId": their_todo}),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A tag of another organization.
    expect(
        stack
            .post(
                &format!("/tasks/{task_id}/addTag"),
                &ann,
                json!({"TagId": id(&their_tag)}),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A user who is not a member.
    let assign = stack
        .post(
            &format!("/tasks/{task_id}/assignee"),
            &ann,
            json!({"UserEmail": "bob@mail.com"}),
        )
        .await;
    assert_eq!(
        expect(assign, StatusCode::BAD_REQUEST).await["msg"],
        "User is not a member of this organization"
    );
    // Nothing was linked or moved.
    let card = expect(
        stack.get(&format!("/tasks/{task_id}"), &ann).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            card["CategoryId"].as_i64(),
            card["tags"].as_array().unwrap().len(),
            card["assignees"].as_array().unwrap().len()
        ),
        (Some(my_todo), 0, 0)
    );
    let theirs_now = expect(
        stack
            .get(&format!("/tasks?CategoryId={their_todo}"), &bob)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs_now, json!([]));

    // A non-member cannot tell an existing organization from a missing one.
    let existing = expect(
        stack
            .get(&format!("/organizations/{their_org}"), &ann)
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let missing = expect(
        stack.get("/organizations/999999", &ann).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(existing, missing);
    let existing = expect(
        stack
            .get(&format!("/categories?OrganizationId={their_org}"), &ann)
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let missing = expect(
        stack.get("/categories?OrganizationId=999999", &ann).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(existing, missing);
    let existing = expect(
        stack
            .patch(
                &format!("/categories/{their_todo}"),
                &ann,
                json!({"name": "x"}),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let missing = expect(
        stack
            .patch("/categories/999999", &ann, json!({"name": "x"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(existing, missing);
    let mixed = stack
        .get(
            &format!("/tasks?OrganizationId={my_org}&CategoryId={their_todo}"),
            &ann,
        )
        .await;
    expect(mixed, StatusCode::UNAUTHORIZED).await;
    let _ = Method::GET;
}
