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
