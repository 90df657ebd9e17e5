//! Bad input gets a 4xx with a `msg`, never a 500, and nothing half-written.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{expect, id, spawn_stack};

#[tokio::test]
async fn malformed_requests_get_a_4xx_and_change_nothing() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][1]));

    let cases = vec![
        (
            Method::GET,
            "/organizations/abc".to_owned(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/tasks/12x".to_owned(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/tasks?CategoryId=abc".to_owned(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/tasks".to_owned(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/categories".to_owned(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/tasks/999999".to_owned(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            "/tasks/999999".to_owned(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::PATCH,
            "/categories/999999".to_owned(),
            Some(json!({"name": "x"})),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/tasks".to_owned(),
            Some(json!({})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/tasks".to_owned(),
            Some(json!({"OrganizationId": org, "CategoryId": todo})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/tasks".to_owned(),
            Some(json!({"title": "x", "OrganizationId": "one", "CategoryId": todo})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/tasks".to_owned(),
            Some(json!({"title": "x".repeat(100_000), "OrganizationId": org, "CategoryId": todo})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/tasks".to_owned(),
            Some(
                json!({"title": "x", "due_date": "someday", "OrganizationId": org, "CategoryId": todo}),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/tasks".to_owned(),
            Some(json!({"title": "x", "OrganizationId": org, "CategoryId": 999999})),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/organizations".to_owned(),
            Some(json!({"name": ""})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/organizations".to_owned(),
            Some(json!({"name": "n".repeat(101)})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/tags".to_owned(),
            Some(json!({"name": "x", "color": "red", "OrganizationId": org})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/categories".to_owned(),
            Some(json!({"name": "x"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PATCH,
            format!("/organizations/{org}/members/{}", ann.id),
            Some(json!({"role": "king"})),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, path, body, status) in cases {
        let response = stack
            .send(method.clone(), &path, Some(&ann.token), body)
            .await;
        let answer = expect(response, status).await;
        assert!(answer["msg"].is_string(), "{method} {path}: {answer}");
    }

    let raw = stack
        .client
        .post(stack.url("/tasks"))
        .header("access_token", &ann.token)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert!(expect(raw, StatusCode::BAD_REQUEST).await["msg"].is_string());

    let huge =
        json!({"title": "x".repeat(10 * 1024 * 1024), "OrganizationId": org, "CategoryId": todo});
    let response = stack.post("/tasks", &ann, huge).await;
    assert!(expect(response, StatusCode::PAYLOAD_TOO_LARGE).await["msg"].is_string());

    // Nothing was half-written.
    let tasks = expect(
        stack
            .get(&format!("/tasks?OrganizationId={org}"), &ann)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tasks, json!([]));
    let organizations = expect(stack.get("/organizations", &ann).await, StatusCode::OK).await;
    assert_eq!(organizations.as_array().unwrap().len(), 1);
    assert_eq!(organizations[0]["Tags"], json!([]));
    assert_eq!(organizations[0]["Categories"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn lists_are_pageable_with_a_total() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][1]));
    for n in 0..5 {
        stack.task(&ann, org, todo, &format!("Task {n}")).await;
    }
    let response = stack
        .get(&format!("/tasks?CategoryId={todo}&limit=2&offset=2"), &ann)
        .await;
    assert_eq!(response.headers()["x-total-count"], "5");
    let page = expect(response, StatusCode::OK).await;
    let titles: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Task 2", "Task 3"]);
    let organizations = stack.get("/organizations?limit=1", &ann).await;
    assert_eq!(organizations.headers()["x-total-count"], "1");
}

/// The total counts every match, also on a page past the end (which has no
/// row to carry it), for each filter and for organizations; a page's cards
/// carry their own tags and assignees, not their neighbours'.
#[tokio::test]
async fn totals_hold_past_the_end_and_cards_keep_their_own_links() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let bob = stack.user("Bob", "B", "bob@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    stack.organization(&ann, "Second board").await;
    stack
        .add_member(&ann, id(&organization), &bob, "member")
        .await;
    let (org, todo, doing) = (
        id(&organization),
        id(&organization["Categories"][1]),
        id(&organization["Categories"][2]),
    );
    let tag = json!({"name": "urgent", "color": "#FF0000", "OrganizationId": org});
    let tag = id(&expect(stack.post("/tags", &ann, tag).await, StatusCode::CREATED).await);
    let mut tasks = Vec::new();
    for n in 0..5 {
        let category = if n < 3 { todo } else { doing };
        tasks.push(id(&stack
            .task(&ann, org, category, &format!("Task {n}"))
            .await));
    }
    // Task 1 is tagged and assigned to Bob; task 3 is tagged only.
    let assign = json!({"UserEmail": "bob@mail.com"});
    let path = format!("/tasks/{}/assignee", tasks[1]);
    expect(stack.post(&path, &ann, assign).await, StatusCode::CREATED).await;
    for task in [tasks[1], tasks[3]] {
        let path = format!("/tasks/{task}/addTag");
        let body = json!({"TagId": tag});
        expect(stack.post(&path, &ann, body).await, StatusCode::CREATED).await;
    }

    for (filter, total) in [
        (format!("OrganizationId={org}"), "5"),
        (format!("CategoryId={todo}"), "3"),
        (format!("TagId={tag}"), "2"),
        (
            format!("OrganizationId={org}&CategoryId={doing}&TagId={tag}"),
            "1",
        ),
    ] {
        let all: usize = total.parse().unwrap();
        // Everything; the second card alone (past the end when there is one);
        // far past the end.
        for (paging, expected) in [
            ("", all),
            ("&limit=1&offset=1", (all - 1).min(1)),
            ("&offset=50", 0),
        ] {
            let path = format!("/tasks?{filter}{paging}");
            let response = stack.get(&path, &ann).await;
            assert_eq!(response.headers()["x-total-count"], total, "{path}");
            let cards = expect(response, StatusCode::OK).await;
            assert_eq!(cards.as_array().unwrap().len(), expected, "{path}");
        }
    }
    let response = stack.get("/organizations?offset=5", &ann).await;
    assert_eq!(response.headers()["x-total-count"], "2");
    assert_eq!(expect(response, StatusCode::OK).await, json!([]));
    let response = stack.get("/organizations?limit=1&offset=1", &ann).await;
    assert_eq!(response.headers()["x-total-count"], "2");
    let page = expect(response, StatusCode::OK).await;
    assert_eq!(page[0]["name"], "Board", "newest first");

    let cards = expect(
        stack
            .get(&format!("/tasks?OrganizationId={org}"), &ann)
            .await,
        StatusCode::OK,
    )
    .await;
    let by_title = |title: &str| {
        cards
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["title"] == title)
            .unwrap()
            .clone()
    };
    let one = by_title("Task 1");
    assert_eq!(
        one["tags"],
        json!([{"id": tag, "name": "urgent", "color": "#FF0000"}])
    );
    assert_eq!(one["assignees"].as_array().unwrap().len(), 1);
    assert_eq!(one["assignees"][0]["email"], "bob@mail.com");
    assert_eq!(one["category"], "Todo");
    assert_eq!(one["user"]["email"], "ann@mail.com");
    let three = by_title("Task 3");
    assert_eq!(three["tags"].as_array().unwrap().len(), 1);
    assert_eq!(three["assignees"], json!([]));
    assert_eq!(three["category"], "Doing");
    for title in ["Task 0", "Task 2", "Task 4"] {
        let card = by_title(title);
        assert_eq!(card["tags"], json!([]), "{title}");
        assert_eq!(card["assignees"], json!([]), "{title}");
    }
    // One card answers exactly as it shows in the list.
    let single = expect(
        stack.get(&format!("/tasks/{}", tasks[1]), &ann).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(single, one);
}

/// A card lists every tag and every assignee it has, each once and in id
/// order whatever order they were added in, with their details; a tag
/// filter and a later page show a card's links as the whole list does.
#[tokio::test]
async fn a_card_lists_all_its_tags_and_assignees_in_id_order() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let bob = stack.user("Bob", "B", "bob@mail.com").await;
    let cid = stack.user("Cid", "C", "cid@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][1]));
    for member in [&bob, &cid] {
        stack.add_member(&ann, org, member, "member").await;
    }
    let mut tags = Vec::new();
    for (name, color) in [("a", "#000001"), ("b", "#000002"), ("c", "#000003")] {
        let body = json!({"name": name, "color": color, "OrganizationId": org});
        tags.push(id(&expect(
            stack.post("/tags", &ann, body).await,
            StatusCode::CREATED,
        )
        .await));
    }
    let first = id(&stack.task(&ann, org, todo, "First").await);
    let second = id(&stack.task(&ann, org, todo, "Second").await);
    let add_tag = async |task: i64, tag: i64| {
        let (path, body) = (format!("/tasks/{task}/addTag"), json!({"TagId": tag}));
        expect(stack.post(&path, &ann, body).await, StatusCode::CREATED).await;
    };
    let assign = async |task: i64, email: &str| {
        let path = format!("/tasks/{task}/assignee");
        let body = json!({"UserEmail": email});
        expect(stack.post(&path, &ann, body).await, StatusCode::CREATED).await;
    };
    for tag in [tags[2], tags[0], tags[1]] {
        add_tag(first, tag).await;
    }
    for email in ["cid@mail.com", "ann@mail.com", "bob@mail.com"] {
        assign(first, email).await;
    }
    add_tag(second, tags[1]).await;
    assign(second, "bob@mail.com").await;

    let list = async |path: String| {
        let cards = expect(stack.get(&path, &ann).await, StatusCode::OK).await;
        cards.as_array().unwrap().clone()
    };
    let whole = list(format!("/tasks?OrganizationId={org}")).await;
    assert_eq!(whole.len(), 2);
    let tag_ids = |card: &serde_json::Value| -> Vec<i64> {
        card["tags"].as_array().unwrap().iter().map(id).collect()
    };
    let emails = |card: &serde_json::Value| -> Vec<String> {
        let assignees = card["assignees"].as_array().unwrap();
        assignees
            .iter()
            .map(|a| a["email"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(tag_ids(&whole[0]), tags);
    assert_eq!(whole[0]["tags"][2]["name"], "c");
    assert_eq!(whole[0]["tags"][2]["color"], "#000003");
    assert_eq!(
        emails(&whole[0]),
        ["ann@mail.com", "bob@mail.com", "cid@mail.com"]
    );
    assert_eq!(tag_ids(&whole[1]), [tags[1]]);
    assert_eq!(emails(&whole[1]), ["bob@mail.com"]);

    let tagged = list(format!("/tasks?TagId={}", tags[1])).await;
    assert_eq!(tagged, whole, "a tag filter shows every tag of a card");
    let later = list(format!("/tasks?OrganizationId={org}&limit=1&offset=1")).await;
    assert_eq!(later, whole[1..], "a later page");
    let single = expect(
        stack.get(&format!("/tasks/{first}"), &ann).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(single, whole[0]);
    assert_eq!(id(&whole[1]), second);
}

/// Paging parameters outside their documented ranges (limit 1-1000, offset
/// up to 1,000,000) answer 400 with a `msg`; none reaches the database,
/// where an offset past `i64::MAX` used to panic and drop the connection.
#[tokio::test]
async fn out_of_range_paging_answers_400_not_a_dropped_connection() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let todo = id(&organization["Categories"][1]);
    let paths = [
        "/organizations?offset=9223372036854775808".to_owned(),
        "/organizations?offset=1000001".to_owned(),
        "/organizations?limit=0".to_owned(),
        "/organizations?limit=1001".to_owned(),
        "/organizations?limit=-1".to_owned(),
        format!("/tasks?CategoryId={todo}&offset=18446744073709551615"),
        format!("/tasks?CategoryId={todo}&limit=99999999999999999999"),
        format!("/tasks?CategoryId={todo}&offset=abc"),
    ];
    for path in paths {
        let body = expect(stack.get(&path, &ann).await, StatusCode::BAD_REQUEST).await;
        assert!(body["msg"].is_string(), "{path}: {body}");
    }
    // The edges of the ranges are fine.
    for path in [
        "/organizations?offset=1000000&limit=1000",
        "/organizations?limit=1",
    ] {
        assert_eq!(
            stack.get(path, &ann).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_wrong_method_answers_405_with_the_paths_methods() {
    let stack = spawn_stack().await;
    for (method, path, allow) in [
        (Method::PUT, "/organizations", "GET, POST"),
        (Method::POST, "/organizations/7", "DELETE, GET, PUT"),
        (Method::TRACE, "/tasks/3", "DELETE, GET, PATCH, PUT"),
    ] {
        let answer = stack.send(method.clone(), path, None, None).await;
        assert_eq!(
            answer.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(answer.headers()["allow"], allow, "{method} {path}");
        let body = expect(answer, StatusCode::METHOD_NOT_ALLOWED).await;
        assert!(body["msg"].is_string(), "{body}");
    }
}
