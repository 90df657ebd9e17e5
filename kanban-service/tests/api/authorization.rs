//! For every route: an outsider, an invitee (invited, not yet joined), a
//! member, an admin (the organization's owner), a second admin, the task's
//! owner and an assignee each get the documented status and `msg`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{User, expect, id, spawn_stack};

const HIDDEN: &str = "Organization not found or you are not authorized to see this organization";
const NOT_MEMBER: &str = "Authorization failed, you are not a member of this organization";
const NOT_ADMIN: &str = "Authorization failed, you are not admin of this organization";
const NOT_EDITOR: &str = "Authorization failed, only task owner and assignee can edit this task";
const NO_CATEGORY: &str = "Category not found";
const NO_TAG: &str = "Tag not found";
const NO_TASK: &str = "Task not found";
const NO_INVITATION: &str = "Invitation not found";
const NOT_OWNER: &str = "Authorization failed, you are not owner of this organization";
const PROTECTED: &str = "The owner cannot be demoted or removed; the owner may transfer ownership to another member first";

/// Who asks, how, and the status and `msg` (when given) they must get.
/// Paths name the fixture's ids as `{org}`, `{todo}`, `{spare}`, `{tag}`,
/// `{task}`, `{member}`, `{owner}` (the task's), `{creator}` (the
/// organization's owner, "admin"), `{invitation}` (the invitee's) and
/// `{revocable}` (an invitation to an email without an account).
type Row = (
    &'static str,
    Method,
    &'static str,
    Option<Value>,
    StatusCode,
    Option<&'static str>,
);

#[tokio::test]
async fn every_route_answers_each_role_as_documented() {
    let stack = spawn_stack().await;
    let admin = stack.user("Ada", "Admin", "admin@mail.com").await;
    let member = stack.user("Max", "Member", "member@mail.com").await;
    let owner = stack.user("Olga", "Owner", "owner@mail.com").await;
    let assignee = stack.user("Abe", "Assignee", "assignee@mail.com").await;
    let outsider = stack.user("Otto", "Outsider", "outsider@mail.com").await;
    let invitee = stack.user("Ina", "Invitee", "invitee@mail.com").await;
    let deputy = stack.user("Dora", "Deputy", "deputy@mail.com").await;

    let organization = stack.organization(&admin, "Board").await;
    let org = id(&organization);
    let todo = id(&organization["Categories"][1]);
    for user in [&member, &owner, &assignee] {
        stack.add_member(&admin, org, user, "member").await;
    }
    stack.add_member(&admin, org, &deputy, "admin").await;
    stack.invite(&admin, org, &invitee.email, "member").await;
    let invitation = stack.invitation_id(&invitee, org).await;
    stack.invite(&admin, org, "nobody@mail.com", "member").await;
    let pending = format!("/organizations/{org}/invitations");
    let pending = expect(stack.get(&pending, &admin).await, StatusCode::OK).await;
    let revocable = pending
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "nobody@mail.com")
        .map(id)
        .unwrap();
    let task = id(&stack.task(&owner, org, todo, "Owned").await);
    let assign = json!({"UserEmail": assignee.email});
    let path = format!("/tasks/{task}/assignee");
    expect(stack.post(&path, &owner, assign).await, StatusCode::CREATED).await;
    let tag = json!({"name": "T", "color": "#00FF00", "OrganizationId": org});
    let tag = id(&expect(stack.post("/tags", &admin, tag).await, StatusCode::CREATED).await);
    let spare = json!({"name": "Spare", "OrganizationId": org});
    let spare = expect(
        stack.post("/categories", &admin, spare).await,
        StatusCode::CREATED,
    )
    .await;
    let spare = id(&spare);

    let listed = expect(stack.get("/organizations", &outsider).await, StatusCode::OK).await;
    assert_eq!(
        listed,
        json!([]),
        "an outsider's list does not show the organization"
    );
    let listed = expect(stack.get("/organizations", &invitee).await, StatusCode::OK).await;
    assert_eq!(
        listed,
        json!([]),
        "an invitee's list does not show the organization"
    );

    let users: [(&str, &User); 7] = [
        ("outsider", &outsider),
        ("invitee", &invitee),
        ("member", &member),
        ("admin", &admin),
        ("deputy", &deputy),
        ("owner", &owner),
        ("assignee", &assignee),
    ];
    let fill = |template: &str| {
        [
            ("{org}", org),
            ("{todo}", todo),
            ("{spare}", spare),
            ("{tag}", tag),
            ("{task}", task),
            ("{member}", member.id),
            ("{owner}", owner.id),
            ("{creator}", admin.id),
            ("{invitation}", invitation),
            ("{revocable}", revocable),
        ]
        .iter()
        .fold(template.to_owned(), |path, (name, value)| {
            path.replace(name, &value.to_string())
        })
    };
    let edit = || Some(json!({"name": "Renamed"}));
    let add = || Some(json!({"UserEmail": "outsider@mail.com"}));
    let promote = || Some(json!({"role": "admin"}));
    let category = || Some(json!({"name": "New", "OrganizationId": org}));
    let new_tag = || Some(json!({"name": "New", "color": "#000000", "OrganizationId": org}));
    let draft = || Some(json!({"title": "X", "OrganizationId": org, "CategoryId": todo}));
    let title = || Some(json!({"title": "Edited"}));
    let first = || Some(json!({"position": 1}));
    let link = || Some(json!({"TagId": tag}));
    let assign = || Some(json!({"UserEmail": "assignee@mail.com"}));
    let demote = || Some(json!({"role": "member"}));
    let to = |user: &User| Some(json!({"UserId": user.id}));

    use Method as M;
    use StatusCode as S;
    let (ok, created, denied, missing) = (S::OK, S::CREATED, S::UNAUTHORIZED, S::NOT_FOUND);
    let refused = S::BAD_REQUEST;
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        // Organization reads.
        ("outsider", M::GET, "/organizations/{org}", None, denied, Some(HIDDEN)),
        ("member", M::GET, "/organizations/{org}", None, ok, None),
        ("outsider", M::GET, "/organizations/{org}/members", None, denied, Some(HIDDEN)),
        ("member", M::GET, "/organizations/{org}/members", None, ok, None),
        // Organization writes: admins only.
        ("outsider", M::PUT, "/organizations/{org}", edit(), denied, Some(HIDDEN)),
        ("member", M::PUT, "/organizations/{org}", edit(), denied, Some(NOT_ADMIN)),
        ("admin", M::PUT, "/organizations/{org}", edit(), ok, None),
        ("outsider", M::DELETE, "/organizations/{org}", None, denied, Some(HIDDEN)),
        ("member", M::DELETE, "/organizations/{org}", None, denied, Some(NOT_ADMIN)),
        // Members: admins manage them.
        ("outsider", M::POST, "/organizations/{org}/members", add(), denied, Some(HIDDEN)),
        ("member", M::POST, "/organizations/{org}/members", add(), denied, Some(NOT_ADMIN)),
        ("outsider", M::PATCH, "/organizations/{org}/members/{member}", promote(), denied, Some(HIDDEN)),
        ("member", M::PATCH, "/organizations/{org}/members/{owner}", promote(), denied, Some(NOT_ADMIN)),
        ("outsider", M::DELETE, "/organizations/{org}/members/{member}", None, denied, Some(HIDDEN)),
        ("member", M::DELETE, "/organizations/{org}/members/{owner}", None, denied, Some(NOT_ADMIN)),
        // An invitee is an outsider until they accept.
        ("invitee", M::GET, "/organizations/{org}", None, denied, Some(HIDDEN)),
        ("invitee", M::GET, "/organizations/{org}/members", None, denied, Some(HIDDEN)),
        ("invitee", M::GET, "/categories?OrganizationId={org}", None, denied, Some(NOT_MEMBER)),
        ("invitee", M::GET, "/tasks?OrganizationId={org}", None, denied, Some(NOT_MEMBER)),
        ("invitee", M::POST, "/organizations/{org}/members", add(), denied, Some(HIDDEN)),
        // Pending invitations: admins list and revoke them.
        ("outsider", M::GET, "/organizations/{org}/invitations", None, denied, Some(HIDDEN)),
        ("invitee", M::GET, "/organizations/{org}/invitations", None, denied, Some(HIDDEN)),
        ("member", M::GET, "/organizations/{org}/invitations", None, denied, Some(NOT_ADMIN)),
        ("deputy", M::GET, "/organizations/{org}/invitations", None, ok, None),
        ("outsider", M::DELETE, "/organizations/{org}/invitations/{revocable}", None, denied, Some(HIDDEN)),
        ("member", M::DELETE, "/organizations/{org}/invitations/{revocable}", None, denied, Some(NOT_ADMIN)),
        // Only the invitee answers their invitation.
        ("outsider", M::POST, "/invitations/{invitation}/accept", None, missing, Some(NO_INVITATION)),
        ("member", M::POST, "/invitations/{invitation}/accept", None, missing, Some(NO_INVITATION)),
        ("admin", M::POST, "/invitations/{invitation}/accept", None, missing, Some(NO_INVITATION)),
        ("outsider", M::POST, "/invitations/{invitation}/decline", None, missing, Some(NO_INVITATION)),
        ("admin", M::POST, "/invitations/{invitation}/decline", None, missing, Some(NO_INVITATION)),
        ("invitee", M::POST, "/invitations/{revocable}/accept", None, missing, Some(NO_INVITATION)),
        ("invitee", M::GET, "/invitations", None, ok, None),
        ("outsider", M::GET, "/invitations", None, ok, None),
        // The owner ("admin", the creator): no other admin demotes or
        // removes them, nor do they step down; only the owner transfers.
        ("deputy", M::PATCH, "/organizations/{org}/members/{creator}", demote(), refused, Some(PROTECTED)),
        ("deputy", M::DELETE, "/organizations/{org}/members/{creator}", None, refused, Some(PROTECTED)),
        ("admin", M::PATCH, "/organizations/{org}/members/{creator}", demote(), refused, Some(PROTECTED)),
        ("admin", M::DELETE, "/organizations/{org}/members/{creator}", None, refused, Some(PROTECTED)),
        ("outsider", M::POST, "/organizations/{org}/transfer", to(&outsider), denied, Some(HIDDEN)),
        ("invitee", M::POST, "/organizations/{org}/transfer", to(&invitee), denied, Some(HIDDEN)),
        ("member", M::POST, "/organizations/{org}/transfer", to(&member), denied, Some(NOT_OWNER)),
        ("deputy", M::POST, "/organizations/{org}/transfer", to(&deputy), denied, Some(NOT_OWNER)),
        ("deputy", M::DELETE, "/organizations/{org}", None, denied, Some(NOT_OWNER)),
        ("admin", M::POST, "/organizations/{org}/transfer", to(&outsider), missing, Some("Member not found")),
        // Categories and tags: members read, admins write; foreign ids are not found.
        ("outsider", M::GET, "/categories?OrganizationId={org}", None, denied, Some(NOT_MEMBER)),
        ("member", M::GET, "/categories?OrganizationId={org}", None, ok, None),
        ("outsider", M::GET, "/tags?OrganizationId={org}", None, denied, Some(NOT_MEMBER)),
        ("member", M::GET, "/tags?OrganizationId={org}", None, ok, None),
        ("outsider", M::POST, "/categories", category(), denied, Some(NOT_MEMBER)),
        ("member", M::POST, "/categories", category(), denied, Some(NOT_ADMIN)),
        ("outsider", M::POST, "/tags", new_tag(), denied, Some(NOT_MEMBER)),
        ("member", M::POST, "/tags", new_tag(), denied, Some(NOT_ADMIN)),
        ("outsider", M::PATCH, "/categories/{spare}", edit(), missing, Some(NO_CATEGORY)),
        ("member", M::PATCH, "/categories/{spare}", edit(), denied, Some(NOT_ADMIN)),
        ("admin", M::PATCH, "/categories/{spare}", edit(), ok, None),
        ("outsider", M::PUT, "/tags/{tag}", edit(), missing, Some(NO_TAG)),
        ("member", M::PUT, "/tags/{tag}", edit(), denied, Some(NOT_ADMIN)),
        ("admin", M::PUT, "/tags/{tag}", edit(), ok, None),
        ("outsider", M::DELETE, "/categories/{spare}", None, missing, Some(NO_CATEGORY)),
        ("member", M::DELETE, "/categories/{spare}", None, denied, Some(NOT_ADMIN)),
        // Tasks: members read and create; only the owner and assignees change a task.
        ("outsider", M::GET, "/tasks?OrganizationId={org}", None, denied, Some(NOT_MEMBER)),
        ("member", M::GET, "/tasks?OrganizationId={org}", None, ok, None),
        ("outsider", M::GET, "/tasks/{task}", None, missing, Some(NO_TASK)),
        ("member", M::GET, "/tasks/{task}", None, ok, None),
        ("outsider", M::POST, "/tasks", draft(), denied, Some(NOT_MEMBER)),
        ("member", M::POST, "/tasks", draft(), created, None),
        ("outsider", M::PUT, "/tasks/{task}", title(), missing, Some(NO_TASK)),
        ("member", M::PUT, "/tasks/{task}", title(), denied, Some(NOT_EDITOR)),
        ("admin", M::PUT, "/tasks/{task}", title(), denied, Some(NOT_EDITOR)),
        ("owner", M::PUT, "/tasks/{task}", title(), ok, None),
        ("assignee", M::PUT, "/tasks/{task}", title(), ok, None),
        ("outsider", M::PATCH, "/tasks/{task}", first(), missing, Some(NO_TASK)),
        ("member", M::PATCH, "/tasks/{task}", first(), denied, Some(NOT_EDITOR)),
        ("admin", M::PATCH, "/tasks/{task}", first(), denied, Some(NOT_EDITOR)),
        ("owner", M::PATCH, "/tasks/{task}", first(), ok, None),
        ("assignee", M::PATCH, "/tasks/{task}", first(), ok, None),
        ("outsider", M::POST, "/tasks/{task}/addTag", link(), missing, Some(NO_TASK)),
        ("member", M::POST, "/tasks/{task}/addTag", link(), denied, Some(NOT_EDITOR)),
        ("admin", M::POST, "/tasks/{task}/addTag", link(), denied, Some(NOT_EDITOR)),
        ("owner", M::POST, "/tasks/{task}/addTag", link(), created, None),
        ("assignee", M::POST, "/tasks/{task}/addTag", link(), created, None),
        ("outsider", M::POST, "/tasks/{task}/assignee", assign(), missing, Some(NO_TASK)),
        ("member", M::POST, "/tasks/{task}/assignee", assign(), denied, Some(NOT_EDITOR)),
        ("admin", M::POST, "/tasks/{task}/assignee", assign(), denied, Some(NOT_EDITOR)),
        ("owner", M::POST, "/tasks/{task}/assignee", assign(), created, None),
        ("assignee", M::POST, "/tasks/{task}/assignee", assign(), created, None),
        ("outsider", M::DELETE, "/tasks/{task}/removeTag/{tag}", None, missing, Some(NO_TASK)),
        ("member", M::DELETE, "/tasks/{task}/removeTag/{tag}", None, denied, Some(NOT_EDITOR)),
        ("assignee", M::DELETE, "/tasks/{task}/removeTag/{tag}", None, ok, None),
        ("outsider", M::DELETE, "/tasks/{task}", None, missing, Some(NO_TASK)),
        ("member", M::DELETE, "/tasks/{task}", None, denied, Some(NOT_EDITOR)),
        ("admin", M::DELETE, "/tasks/{task}", None, denied, Some(NOT_EDITOR)),
        ("assignee", M::DELETE, "/tasks/{task}", None, ok, None),
        // Admin-only writes that remove things, last.
        ("deputy", M::DELETE, "/organizations/{org}/invitations/{revocable}", None, ok, None),
        ("admin", M::DELETE, "/organizations/{org}/invitations/{revocable}", None, missing, Some(NO_INVITATION)),
        ("admin", M::POST, "/organizations/{org}/members", add(), created, None),
        ("invitee", M::POST, "/invitations/{invitation}/accept", None, ok, None),
        ("invitee", M::GET, "/organizations/{org}", None, ok, None),
        ("invitee", M::POST, "/invitations/{invitation}/accept", None, missing, Some(NO_INVITATION)),
        ("admin", M::PATCH, "/organizations/{org}/members/{member}", promote(), ok, None),
        ("admin", M::DELETE, "/organizations/{org}/members/{owner}", None, ok, None),
        ("deputy", M::DELETE, "/organizations/{org}/members/{member}", None, ok, None),
        ("admin", M::DELETE, "/tags/{tag}", None, ok, None),
        ("admin", M::DELETE, "/categories/{spare}", None, ok, None),
        ("admin", M::DELETE, "/organizations/{org}", None, ok, None),
    ];

    for (n, (who, method, template, body, status, msg)) in rows.into_iter().enumerate() {
        let path = fill(template);
        let row = format!("row {n}: {who} {method} {template} ({path})");
        let user = users.iter().find(|(name, _)| *name == who).expect(&row).1;
        let response = stack.send(method, &path, Some(&user.token), body).await;
        let actual = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(actual, status, "{row}: {answer}");
        if let Some(msg) = msg {
            assert_eq!(answer["msg"], msg, "{row}");
        }
    }
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
    // With a second admin, the owner still may not step down: first they
    // hand ownership over, then they are an admin like any other.
    let member_path = format!("/organizations/{org}/members/{}", member.id);
    expect(
        stack
            .patch(&member_path, &admin, json!({"role": "admin"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let protected = stack.patch(&me, &admin, json!({"role": "member"})).await;
    assert_eq!(
        expect(protected, StatusCode::BAD_REQUEST).await["msg"],
        PROTECTED
    );
    let transfer = format!("/organizations/{org}/transfer");
    expect(
        stack
            .post(&transfer, &admin, json!({"UserId": member.id}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        stack.patch(&me, &admin, json!({"role": "member"})).await,
        StatusCode::OK,
    )
    .await;
    // Inviting an existing member is refused; an email without an account
    // is invited like any other (the answer does not tell them apart).
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
        expect(unknown, StatusCode::CREATED).await["msg"],
        "User has been invited"
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
