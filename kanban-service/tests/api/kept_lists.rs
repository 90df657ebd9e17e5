//! Task and organization lists are kept as written per version of what
//! they show (`api::kept_lists`). Three kanban services share one
//! database: the stack's and a replica, both keeping lists, and one that
//! keeps none, whose lists are the reference. Before and after every kind
//! of change of what a list shows (made at one replica or the other), each
//! list (the organization's tasks, a page of them, each column's, a tag's;
//! each user's organizations, and a page of them) must read the same at
//! all three: the keeping services read every list before each change, so
//! a kept list that outlived its version would be caught.

use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::{Stack, User, expect, id, spawn_stack};

/// The three services: two keeping lists, then the reference.
struct Services {
    keeping: [String; 2],
    reference: String,
}

/// A list at the service at `base`: its `X-Total-Count` and body, with
/// the service's own URL (the avatars' host) left out.
async fn list_at(stack: &Stack, base: &str, user: &User, path: &str) -> (u64, Value) {
    let response = stack
        .send_at(base, Method::GET, path, Some(&user.token), None)
        .await;
    let total = response.headers()["x-total-count"].to_str().unwrap();
    let total = total.parse().unwrap();
    let body = expect(response, StatusCode::OK).await.to_string();
    (
        total,
        serde_json::from_str(&body.replace(base, "")).unwrap(),
    )
}

/// Every list of the board reads the same at the three services (twice at
/// the keeping ones: written, then kept).
async fn agree(stack: &Stack, services: &Services, user: &User, lists: &[String], after: &str) {
    for path in lists {
        let reference = list_at(stack, &services.reference, user, path).await;
        for base in &services.keeping {
            for read in ["first", "second"] {
                let listed = list_at(stack, base, user, path).await;
                assert_eq!(
                    listed, reference,
                    "after {after}: {path} at {base} ({read} read)"
                );
            }
        }
    }
}

/// The ids of an organization's columns, in order, as its answer lists them.
fn column_ids(organization: &Value) -> Vec<i64> {
    organization["Categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect()
}

/// `method` `path` at the service at `base`, answered with `status`.
async fn change(
    stack: &Stack,
    base: &str,
    user: &User,
    (method, path, body): (Method, &str, Option<Value>),
    status: StatusCode,
) -> Value {
    let response = stack
        .send_at(base, method, path, Some(&user.token), body)
        .await;
    expect(response, status).await
}

#[tokio::test]
async fn every_change_shows_in_the_next_list_at_every_replica() {
    let mut stack = spawn_stack().await;
    let keeping = stack.spawn_kanban_replica(Vec::new()).await;
    let reference = stack
        .spawn_kanban_replica(vec![
            ("KANBAN_TASK_LIST_CACHE_BYTES", "0".to_owned()),
            ("KANBAN_ORGANIZATION_LIST_CACHE_BYTES", "0".to_owned()),
        ])
        .await;
    let services = Services {
        keeping: [stack.kanban_url.clone(), keeping],
        reference,
    };
    let ann = stack.user("Ann", "Admin", "ann@mail.com").await;
    let bob = stack.user("Bob", "Member", "bob@mail.com").await;
    let other = id(&stack.organization(&ann, "Other board").await);
    let organization = stack.organization(&ann, "Board").await;
    let org = id(&organization);
    stack.add_member(&ann, org, &bob, "member").await;
    let columns = column_ids(&organization);
    let (todo, doing) = (columns[0], columns[1]);
    let new_tag = |name: &str| json!({"name": name, "color": "#00AA00", "OrganizationId": org});
    let urgent = id(&expect(
        stack.post("/tags", &ann, new_tag("Urgent")).await,
        StatusCode::CREATED,
    )
    .await);
    let mut tasks = Vec::new();
    for (n, category) in [todo, todo, todo, doing, doing].into_iter().enumerate() {
        let owner = if n % 2 == 0 { &ann } else { &bob };
        tasks.push(id(&stack
            .task(owner, org, category, &format!("Task {n}"))
            .await));
    }
    let mut lists = vec![
        format!("/tasks?OrganizationId={org}"),
        format!("/tasks?OrganizationId={org}&limit=2&offset=1"),
        format!("/tasks?TagId={urgent}"),
    ];
    lists.extend(columns.iter().map(|c| format!("/tasks?CategoryId={c}")));
    lists.extend([
        "/organizations".to_owned(),
        "/organizations?limit=1&offset=1".to_owned(),
    ]);
    let bobs_lists = ["/organizations".to_owned()];
    let (stack, services) = (&stack, &services);
    agree(stack, services, &ann, &lists, "the board's making").await;
    agree(stack, services, &bob, &bobs_lists, "the board's making").await;

    let task = |n: usize| format!("/tasks/{}", tasks[n]);
    let created = json!({"title": "New", "OrganizationId": org, "CategoryId": doing});
    let edited = json!({"title": "Edited", "description": "Now"});
    let tag = json!({"TagId": urgent});
    let assignee = json!({"UserEmail": bob.email});
    let (ok, created_status) = (StatusCode::OK, StatusCode::CREATED);
    #[rustfmt::skip]
    let changes = [
        ("a creation", &ann, Method::POST, "/tasks".to_owned(), Some(created), created_status),
        ("an edit", &ann, Method::PUT, task(0), Some(edited), ok),
        ("a move within a column", &ann, Method::PATCH, task(2), Some(json!({"position": 1})), ok),
        ("a move across", &bob, Method::PATCH, task(1), Some(json!({"CategoryId": doing, "position": 1})), ok),
        ("an edit that moves", &ann, Method::PUT, task(0), Some(json!({"CategoryId": doing})), ok),
        ("a tag added", &ann, Method::POST, format!("{}/addTag", task(2)), Some(tag.clone()), created_status),
        ("an assignee added", &ann, Method::POST, format!("{}/assignee", task(2)), Some(assignee), created_status),
        ("a tag's edit", &ann, Method::PUT, format!("/tags/{urgent}"), Some(json!({"name": "Later", "color": "#0000AA"})), ok),
        ("a name's change", &bob, Method::PATCH, "/user".to_owned(), Some(json!({"first_name": "Robert"})), ok),
        ("a column's rename", &ann, Method::PATCH, format!("/categories/{todo}"), Some(json!({"name": "Icebox"})), ok),
        ("an assignee removed", &ann, Method::DELETE, format!("{}/assignee/{}", task(2), bob.id), None, ok),
        ("a tag removed", &ann, Method::DELETE, format!("{}/removeTag/{urgent}", task(2)), None, ok),
        ("a tag added again", &bob, Method::POST, format!("{}/addTag", task(3)), Some(tag), created_status),
        ("a deletion", &bob, Method::DELETE, task(3), None, ok),
        ("a member's removal", &ann, Method::DELETE, format!("/organizations/{org}/members/{}", bob.id), None, ok),
        ("a column's deletion", &ann, Method::DELETE, format!("/categories/{doing}"), None, ok),
        ("a tag's deletion", &ann, Method::DELETE, format!("/tags/{urgent}"), None, ok),
        ("an organization's edit", &ann, Method::PUT, format!("/organizations/{org}"), Some(json!({"name": "Renamed", "description": "Now"})), ok),
        ("a column added", &ann, Method::POST, "/categories".to_owned(), Some(json!({"name": "Review", "OrganizationId": org})), created_status),
        ("a tag made", &ann, Method::POST, "/tags".to_owned(), Some(new_tag("Soon")), created_status),
        ("an organization made", &ann, Method::POST, "/organizations".to_owned(), Some(json!({"name": "Third"})), created_status),
        ("another organization's deletion", &ann, Method::DELETE, format!("/organizations/{other}"), None, ok),
    ];
    for (n, (what, user, method, path, body, status)) in changes.into_iter().enumerate() {
        // Made at one replica or the other, in turn.
        let base = &services.keeping[n % 2];
        change(stack, base, user, (method, &path, body), status).await;
        // A deleted column or tag has no list.
        let gone = match what {
            "a column's deletion" => Some(format!("/tasks?CategoryId={doing}")),
            "a tag's deletion" => Some(format!("/tasks?TagId={urgent}")),
            _ => None,
        };
        lists.retain(|list| Some(list) != gone.as_ref());
        agree(stack, services, &ann, &lists, what).await;
        agree(stack, services, &bob, &bobs_lists, what).await;
    }
}

#[tokio::test]
async fn a_list_asked_again_is_answered_as_kept_until_its_board_changes() {
    let mut stack = spawn_stack().await;
    let reference = stack
        .spawn_kanban_replica(vec![("KANBAN_TASK_LIST_CACHE_BYTES", "0".to_owned())])
        .await;
    let ann = stack.user("Ann", "Admin", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][0]));
    let task = id(&stack.task(&ann, org, todo, "Written").await);
    let path = format!("/tasks?OrganizationId={org}");
    let kept = list_at(&stack, &stack.kanban_url, &ann, &path).await;

    // A change made behind the services' back (not through them) gives the
    // board no new version: the keeping service answers what it kept, the
    // other one what the database holds.
    let db = Database::connect(&stack.kanban_database).await.unwrap();
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "UPDATE tasks SET title = 'Behind' WHERE id = $1",
        _ => "UPDATE tasks SET title = 'Behind' WHERE id = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [task.into()]))
        .await
        .unwrap();
    let again = list_at(&stack, &stack.kanban_url, &ann, &path).await;
    assert_eq!(again, kept, "kept until the board changes");
    assert_eq!(again.1[0]["title"], "Written");
    let fresh = list_at(&stack, &reference, &ann, &path).await;
    assert_eq!(fresh.1[0]["title"], "Behind");

    // A change through a service gives the board a new version.
    let edit = json!({"description": "Changed"});
    let path_of_task = format!("/tasks/{task}");
    expect(stack.put(&path_of_task, &ann, edit).await, StatusCode::OK).await;
    let changed = list_at(&stack, &stack.kanban_url, &ann, &path).await;
    assert_eq!(changed.1[0]["title"], "Behind");
    assert_eq!(changed.1[0]["description"], "Changed");
    assert_eq!(changed, list_at(&stack, &reference, &ann, &path).await);
}

/// The card of `task` in `list`, if listed.
fn card_in(list: &Value, task: i64) -> Option<&Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|card| id(card) == task)
}

/// Creates tasks at the stack's service, moves each to the top of its
/// column, then to the top of the next column, finding each creation and
/// move in the organization's list at `replica` as soon as it is answered
/// (a move within a column by the time it answers, which only that move
/// changes).
async fn write_and_find(
    stack: &Stack,
    ann: &User,
    replica: &str,
    org: i64,
    columns: &[i64],
    writer: usize,
) {
    let list = format!("/tasks?OrganizationId={org}");
    for round in 0..8 {
        let column = columns[(writer + round) % columns.len()];
        let title = format!("{writer}.{round}");
        let draft = json!({"title": title, "OrganizationId": org, "CategoryId": column});
        let created = expect(stack.post("/tasks", ann, draft).await, StatusCode::CREATED).await;
        let task = id(&created);
        let (_, listed) = list_at(stack, replica, ann, &list).await;
        assert!(card_in(&listed, task).is_some(), "creation {title} listed");
        let path = format!("/tasks/{task}");
        let top = json!({"position": 1});
        let moved = expect(stack.patch(&path, ann, top).await, StatusCode::OK).await;
        let (_, listed) = list_at(stack, replica, ann, &list).await;
        let card = card_in(&listed, task).unwrap_or_else(|| panic!("{title} listed"));
        assert_eq!(
            card["updatedAt"], moved["updatedAt"],
            "move of {title} within its column listed"
        );
        let target = columns[(writer + round + 1) % columns.len()];
        let body = json!({"CategoryId": target, "position": 1});
        expect(stack.patch(&path, ann, body).await, StatusCode::OK).await;
        let (_, listed) = list_at(stack, replica, ann, &list).await;
        let card = card_in(&listed, task).unwrap_or_else(|| panic!("{title} listed"));
        assert_eq!(card["CategoryId"], target, "move of {title} listed");
    }
}

/// Writers at one replica and readers at the other, at once: each writer,
/// once its creation or move is answered, finds it in the organization's
/// list at the other replica (which keeps lists while others change them).
#[tokio::test]
async fn a_write_answered_shows_in_the_next_list_while_others_write() {
    let mut stack = spawn_stack().await;
    let replica = stack.spawn_kanban_replica(Vec::new()).await;
    let ann = stack.user("Ann", "Admin", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let org = id(&organization);
    let columns = column_ids(&organization);
    let writers =
        (0..6).map(|writer| write_and_find(&stack, &ann, &replica, org, &columns, writer));
    futures::future::join_all(writers).await;
}
