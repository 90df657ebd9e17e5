//! Concurrent moves keep positions dense and ordered; a demotion racing
//! an admin's actions is either seen by them or waited for, never missed.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Stack, User, expect, id, spawn_stack};

const NOT_ADMIN: &str = "Authorization failed, you are not admin of this organization";

#[tokio::test]
async fn concurrent_moves_leave_a_gap_free_order() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo, doing) = (
        id(&organization),
        id(&organization["Categories"][1]),
        id(&organization["Categories"][2]),
    );
    let mut tasks = Vec::new();
    for n in 0..10 {
        tasks.push(id(&stack.task(&ann, org, todo, &format!("Task {n}")).await));
    }

    // Twenty moves at once: within the category, and across to another one.
    let moves = (0..20).map(|n| {
        let task = tasks[(n * 7) % tasks.len()];
        let body = if n % 4 == 3 {
            json!({"CategoryId": doing, "position": 1})
        } else {
            json!({"position": (n % 10) + 1})
        };
        let request = stack
            .client
            .patch(stack.url(&format!("/tasks/{task}")))
            .header("access_token", &ann.token)
            .json(&body);
        async move { request.send().await.unwrap().status() }
    });
    let statuses = futures::future::join_all(moves).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );

    let mut seen = 0;
    for category in [todo, doing] {
        let list = expect(
            stack
                .get(&format!("/tasks?CategoryId={category}"), &ann)
                .await,
            StatusCode::OK,
        )
        .await;
        let positions: Vec<i64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["position"].as_i64().unwrap())
            .collect();
        let expected: Vec<i64> = (1..=positions.len() as i64).collect();
        assert_eq!(positions, expected, "category {category}");
        seen += positions.len();
    }
    assert_eq!(seen, tasks.len());
}

#[tokio::test]
async fn concurrent_creates_append_without_duplicate_positions() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][1]));
    let creates = (0..12).map(|n| {
        let body = json!({"title": format!("T{n}"), "OrganizationId": org, "CategoryId": todo});
        let request = stack
            .client
            .post(stack.url("/tasks"))
            .header("access_token", &ann.token)
            .json(&body);
        async move { request.send().await.unwrap().status() }
    });
    let statuses = futures::future::join_all(creates).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let list = expect(
        stack.get(&format!("/tasks?CategoryId={todo}"), &ann).await,
        StatusCode::OK,
    )
    .await;
    let positions: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, (1..=12).collect::<Vec<i64>>());
}

/// The category's tasks as (id, position), in list order.
async fn column(stack: &Stack, user: &User, category: i64) -> Vec<(i64, i64)> {
    let list = expect(
        stack
            .get(&format!("/tasks?CategoryId={category}"), user)
            .await,
        StatusCode::OK,
    )
    .await;
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| (id(t), t["position"].as_i64().unwrap()))
        .collect()
}

/// Sixteen movers at once take the same task across the board's columns,
/// round after round, so most find it moved to another column before they
/// hold the locks they took for it (and try again): every move succeeds
/// and answers the column it asked for, and afterwards the task is in one
/// column and every column is dense.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn movers_racing_one_task_across_columns_all_succeed() {
    const MOVERS: usize = 16;
    const ROUNDS: usize = 3;
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let org = id(&organization);
    let columns: Vec<i64> = organization["Categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    for (n, column) in columns.iter().enumerate() {
        for k in 0..3 {
            stack
                .task(&ann, org, *column, &format!("Task {n}.{k}"))
                .await;
        }
    }
    let raced = id(&stack.task(&ann, org, columns[0], "Raced").await);

    let movers = (0..MOVERS).map(|mover| {
        let (stack, ann, columns) = (&stack, &ann, &columns);
        async move {
            let mut answers = Vec::new();
            for round in 0..ROUNDS {
                let target = columns[(mover + round) % columns.len()];
                let body = json!({"CategoryId": target, "position": 2});
                let response = stack.patch(&format!("/tasks/{raced}"), ann, body).await;
                let status = response.status();
                answers.push((target, status, response.json::<Value>().await.ok()));
            }
            answers
        }
    });
    let answers: Vec<_> = futures::future::join_all(movers)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(answers.len(), MOVERS * ROUNDS);
    for (target, status, answer) in &answers {
        assert_eq!(*status, StatusCode::OK, "moving to {target}: {answer:?}");
        let answer = answer.as_ref().unwrap();
        assert_eq!(answer["CategoryId"].as_i64(), Some(*target), "{answer}");
    }

    let mut found = 0;
    for column in &columns {
        let tasks = self::column(&stack, &ann, *column).await;
        let positions: Vec<i64> = tasks.iter().map(|(_, p)| *p).collect();
        let dense: Vec<i64> = (1..=tasks.len() as i64).collect();
        assert_eq!(positions, dense, "column {column}");
        found += tasks.iter().filter(|(task, _)| *task == raced).count();
    }
    assert_eq!(found, 1, "the raced task is in one column");
}

/// Sixteen movers at once on one column of 24 tasks, each moving tasks to
/// positions all over the column (and past its ends), a few rounds each:
/// every move succeeds, answers a position within the column, and
/// afterwards the column holds each task once at positions exactly 1..24.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_movers_keep_one_column_dense() {
    const TASKS: usize = 24;
    const MOVERS: usize = 16;
    const ROUNDS: usize = 4;
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][1]));
    let mut tasks = Vec::new();
    for n in 0..TASKS {
        tasks.push(id(&stack.task(&ann, org, todo, &format!("Task {n}")).await));
    }

    let movers = (0..MOVERS).map(|mover| {
        let (stack, ann, tasks) = (&stack, &ann, &tasks);
        async move {
            let mut answers = Vec::new();
            for round in 0..ROUNDS {
                let n = mover * ROUNDS + round;
                let task = tasks[(n * 5) % TASKS];
                // Positions from -1 to TASKS + 2: below, within and past the column.
                let position = (n * 7) % (TASKS + 4);
                let body = json!({"position": position as i64 - 1});
                let response = stack.patch(&format!("/tasks/{task}"), ann, body).await;
                answers.push((task, response.status(), response.json::<Value>().await.ok()));
            }
            answers
        }
    });
    let answers: Vec<_> = futures::future::join_all(movers)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(answers.len(), MOVERS * ROUNDS);
    for (task, status, answer) in &answers {
        assert_eq!(*status, StatusCode::OK, "moving {task}: {answer:?}");
        let answer = answer.as_ref().unwrap();
        assert_eq!(id(answer), *task);
        assert_eq!(answer["CategoryId"].as_i64(), Some(todo));
        let position = answer["position"].as_i64().unwrap();
        assert!(
            (1..=TASKS as i64).contains(&position),
            "moving {task}: {answer}"
        );
    }

    let after = column(&stack, &ann, todo).await;
    let positions: Vec<i64> = after.iter().map(|(_, p)| *p).collect();
    assert_eq!(positions, (1..=TASKS as i64).collect::<Vec<_>>());
    let mut ids: Vec<i64> = after.iter().map(|(t, _)| *t).collect();
    ids.sort_unstable();
    let mut expected = tasks.clone();
    expected.sort_unstable();
    assert_eq!(ids, expected, "every task exactly once");
    // Each task's own answer agrees with the list.
    for (task, position) in &after {
        let one = expect(
            stack.get(&format!("/tasks/{task}"), &ann).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(one["position"].as_i64(), Some(*position), "task {task}");
    }
    // A move answers the task as it is stored: the same fields a read shows.
    let (last, _) = after[TASKS - 1];
    let moved = expect(
        stack
            .patch(&format!("/tasks/{last}"), &ann, json!({"position": 3}))
            .await,
        StatusCode::OK,
    )
    .await;
    let read = expect(
        stack.get(&format!("/tasks/{last}"), &ann).await,
        StatusCode::OK,
    )
    .await;
    for field in [
        "position",
        "CategoryId",
        "updatedAt",
        "createdAt",
        "title",
        "OwnerId",
    ] {
        assert_eq!(moved[field], read[field], "{field}");
    }
    assert_eq!(moved["position"], 3);
}

/// Creators appending to a column while movers put its tasks last (a
/// move within the column, past its end), rounds of sixteen at once: no
/// two take one rank (a request would fail), the creations answer the
/// counts the column reached one by one, and the column ends dense with
/// every task in it once, the round's moved and created ones at its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn creators_and_movers_to_the_end_of_one_column_share_no_rank() {
    const TASKS: usize = 8;
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo) = (id(&organization), id(&organization["Categories"][1]));
    let mut tasks = Vec::new();
    for n in 0..TASKS {
        tasks.push(id(&stack.task(&ann, org, todo, &format!("Task {n}")).await));
    }
    for round in 0..3 {
        let requests = (0..16).map(|n| {
            let (stack, ann, tasks) = (&stack, &ann, &tasks);
            async move {
                let response = match n % 2 {
                    0 => {
                        let title = format!("New {round}.{n}");
                        let body =
                            json!({"title": title, "OrganizationId": org, "CategoryId": todo});
                        stack.post("/tasks", ann, body).await
                    }
                    _ => {
                        let task = tasks[(n / 2 + round) % TASKS];
                        let body = json!({"position": 10_000});
                        stack.patch(&format!("/tasks/{task}"), ann, body).await
                    }
                };
                (n, answer(response).await)
            }
        });
        let answers = futures::future::join_all(requests).await;
        let before = tasks.len() as i64;
        let mut created = Vec::new();
        for (n, (status, body)) in answers {
            assert!(
                status.is_success(),
                "round {round}, request {n}: {status} {body}"
            );
            if n % 2 == 0 {
                created.push((id(&body), body["position"].as_i64().unwrap()));
            }
        }
        tasks.extend(created.iter().map(|(task, _)| *task));
        let after = column(&stack, &ann, todo).await;
        let positions: Vec<i64> = after.iter().map(|(_, p)| *p).collect();
        assert_eq!(positions, (1..=tasks.len() as i64).collect::<Vec<_>>());
        let mut listed: Vec<i64> = after.iter().map(|(t, _)| *t).collect();
        listed.sort_unstable();
        let mut expected = tasks.clone();
        expected.sort_unstable();
        assert_eq!(listed, expected, "round {round}: every task once");
        // Each creation answers the column's count as it made it.
        let mut answered: Vec<i64> = created.iter().map(|(_, p)| *p).collect();
        answered.sort_unstable();
        let counts: Vec<i64> = (before + 1..=before + 8).collect();
        assert_eq!(answered, counts, "round {round}: {created:?}");
        // The round's creations and moves are the column's last sixteen.
        let mut last: Vec<i64> = after[after.len() - 16..].iter().map(|(t, _)| *t).collect();
        last.sort_unstable();
        let mut placed: Vec<i64> = created.iter().map(|(t, _)| *t).collect();
        placed.extend(&tasks[..TASKS]);
        placed.sort_unstable();
        assert_eq!(last, placed, "round {round}: placed last");
    }
}

/// Creators appending to a column, movers reordering it and moving tasks
/// in from and out to another column, and deleters, all at once: both
/// columns end dense (1..n, no duplicates) and hold exactly the tasks that
/// were created and not deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn creates_moves_and_deletes_at_once_keep_columns_dense() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "A", "ann@mail.com").await;
    let organization = stack.organization(&ann, "Board").await;
    let (org, todo, doing) = (
        id(&organization),
        id(&organization["Categories"][1]),
        id(&organization["Categories"][2]),
    );
    let mut tasks = Vec::new();
    for n in 0..12 {
        tasks.push(id(&stack.task(&ann, org, todo, &format!("Task {n}")).await));
    }
    let deleted: Vec<i64> = tasks.iter().copied().skip(9).collect();

    let requests = (0..30).map(|n| {
        let (stack, ann, tasks) = (&stack, &ann, &tasks);
        async move {
            let response = match n % 5 {
                0 | 1 => {
                    let body = json!({"title": format!("New {n}"), "OrganizationId": org, "CategoryId": todo});
                    stack.post("/tasks", ann, body).await
                }
                2 => {
                    let body = json!({"CategoryId": doing, "position": (n % 3) + 1});
                    stack.patch(&format!("/tasks/{}", tasks[n % 9]), ann, body).await
                }
                3 => {
                    let body = json!({"CategoryId": todo, "position": n % 13});
                    stack.patch(&format!("/tasks/{}", tasks[(n + 4) % 9]), ann, body).await
                }
                _ => {
                    let task = tasks[9 + (n / 5) % 3];
                    stack.delete(&format!("/tasks/{task}"), ann).await
                }
            };
            (n, response.status())
        }
    });
    let statuses = futures::future::join_all(requests).await;
    for (n, status) in &statuses {
        // A task deleted by an earlier request is gone for the later ones.
        let expected_delete_twice = n % 5 == 4 && *status == StatusCode::NOT_FOUND;
        assert!(
            status.is_success() || expected_delete_twice,
            "request {n}: {status}"
        );
    }

    let (todo_after, doing_after) = (
        column(&stack, &ann, todo).await,
        column(&stack, &ann, doing).await,
    );
    for column in [&todo_after, &doing_after] {
        let positions: Vec<i64> = column.iter().map(|(_, p)| *p).collect();
        assert_eq!(positions, (1..=column.len() as i64).collect::<Vec<_>>());
    }
    let created = statuses.iter().filter(|(n, _)| n % 5 <= 1).count();
    let all: Vec<i64> = todo_after
        .iter()
        .chain(&doing_after)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(all.len(), 9 + created);
    for task in &tasks[..9] {
        assert_eq!(all.iter().filter(|t| *t == task).count(), 1, "task {task}");
    }
    for task in &deleted {
        assert!(!all.contains(task), "deleted task {task} is still listed");
    }
}

/// The members' role labels by email (`Owner`, `Admin` or `Member`).
async fn roles(stack: &Stack, org: i64, asker: &User) -> Vec<(String, String)> {
    let path = format!("/organizations/{org}/members");
    let members = expect(stack.get(&path, asker).await, StatusCode::OK).await;
    members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Two admins act against each other at once: Ada demotes Bob while Bob
/// demotes (or removes) Ada. Whichever commits first, the other is no
/// longer an admin when its turn comes, so exactly one succeeds and the
/// other is refused as not an admin. Both succeeding would mean one of
/// them acted after its own demotion had committed (a role read before the
/// lock and acted on after it); the organization's creator stays admin
/// throughout, so no last-admin rule can hide that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_racing_to_demote_each_other_never_both_win() {
    let stack = spawn_stack().await;
    let cy = stack.user("Cy", "Creator", "cy@mail.com").await;
    let ada = stack.user("Ada", "A", "ada@mail.com").await;
    let bob = stack.user("Bob", "B", "bob@mail.com").await;
    let org = id(&stack.organization(&cy, "Board").await);
    stack.add_member(&cy, org, &ada, "admin").await;
    stack.add_member(&cy, org, &bob, "admin").await;
    let member = |user: &User| format!("/organizations/{org}/members/{}", user.id);
    let demote = json!({"role": "member"});

    for round in 0..24 {
        // Every other round Bob's move is to remove Ada instead.
        let removes = round % 2 == 1;
        let (method, body) = if removes {
            (Method::DELETE, None)
        } else {
            (Method::PATCH, Some(demote.clone()))
        };
        let (ada_path, bob_path) = (member(&ada), member(&bob));
        let (by_ada, by_bob) = tokio::join!(
            async { answer(stack.patch(&bob_path, &ada, demote.clone()).await).await },
            async { answer(stack.send(method, &ada_path, Some(&bob.token), body).await).await },
        );
        let (winner, loser, refusal) = match (by_ada.0, by_bob.0) {
            (StatusCode::OK, StatusCode::UNAUTHORIZED) => (&ada, &bob, &by_bob.1),
            (StatusCode::UNAUTHORIZED, StatusCode::OK) => (&bob, &ada, &by_ada.1),
            _ => panic!("round {round}: exactly one may win: Ada {by_ada:?}, Bob {by_bob:?}"),
        };
        // Ada, once removed, no longer sees the organization at all.
        let expected = if removes && loser.id == ada.id {
            "Organization not found or you are not authorized to see this organization"
        } else {
            NOT_ADMIN
        };
        assert_eq!(refusal["msg"], expected, "round {round}");

        let lost = if removes && winner.id == bob.id {
            None
        } else {
            Some("Member")
        };
        let mut expected = vec![
            ("cy@mail.com".to_owned(), "Owner".to_owned()),
            (winner.email.clone(), "Admin".to_owned()),
        ];
        expected.extend(lost.map(|role| (loser.email.clone(), role.to_owned())));
        let mut actual = roles(&stack, org, &cy).await;
        expected.sort();
        actual.sort();
        assert_eq!(actual, expected, "round {round}");

        // Back to two admins for the next round.
        if lost.is_some() {
            let promote = json!({"role": "admin"});
            expect(
                stack.patch(&member(loser), &cy, promote).await,
                StatusCode::OK,
            )
            .await;
        } else {
            stack.add_member(&cy, org, loser, "admin").await;
        }
    }
}

/// One request of Bob's: what, when it was sent, and the answer.
#[derive(Debug)]
struct Attempt {
    what: String,
    sent: Instant,
    status: StatusCode,
    msg: Value,
}

/// Bob, an admin, invites members, creates categories and deletes tags (two
/// streams of requests, one after the other in each) while Ada demotes him.
/// Every answer is a success or "not admin"; in each stream, once refused,
/// Bob stays refused; every request sent after Ada's demotion was answered
/// is refused; exactly the accepted requests left an effect; and every
/// category Bob created sits before the one Ada creates right after the
/// demotion, so none of his effects is ordered after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demoted_admin_is_refused_from_the_demotions_commit_on() {
    const ROUNDS: usize = 6;
    const PER_STREAM: usize = 6;
    let stack = spawn_stack().await;
    let ada = stack.user("Ada", "A", "ada@mail.com").await;
    let bob = stack.user("Bob", "B", "bob@mail.com").await;
    let org = id(&stack.organization(&ada, "Board").await);
    stack.add_member(&ada, org, &bob, "admin").await;
    let bob_path = format!("/organizations/{org}/members/{}", bob.id);

    for round in 0..ROUNDS {
        // What Bob may act on this round: tags to delete, accounts to add.
        let mut tags = Vec::new();
        let mut emails = Vec::new();
        for n in 0..PER_STREAM {
            let tag =
                json!({"name": format!("r{round}t{n}"), "color": "#123456", "OrganizationId": org});
            tags.push(id(&expect(
                stack.post("/tags", &ada, tag).await,
                StatusCode::CREATED,
            )
            .await));
            if n % 3 == 0 {
                let email = format!("r{round}n{n}@mail.com");
                let body = json!({"first_name": "New", "last_name": "Member", "email": email, "password": crate::helpers::PASSWORD});
                expect(
                    stack
                        .send(Method::POST, "/register", None, Some(body))
                        .await,
                    StatusCode::CREATED,
                )
                .await;
                emails.push(email);
            }
        }

        let stream = |first: usize| {
            let (tags, emails, bob) = (&tags, &emails, &bob);
            let stack = &stack;
            async move {
                let mut attempts = Vec::new();
                for n in (first..PER_STREAM).step_by(2) {
                    let (what, method, path, body) = match n % 3 {
                        0 => (
                            format!("add {}", emails[n / 3]),
                            Method::POST,
                            format!("/organizations/{org}/members"),
                            Some(json!({"UserEmail": emails[n / 3]})),
                        ),
                        1 => (
                            format!("create r{round}c{n}"),
                            Method::POST,
                            "/categories".to_owned(),
                            Some(json!({"name": format!("r{round}c{n}"), "OrganizationId": org})),
                        ),
                        _ => (
                            format!("delete tag {}", tags[n]),
                            Method::DELETE,
                            format!("/tags/{}", tags[n]),
                            None,
                        ),
                    };
                    let sent = Instant::now();
                    let (status, msg) =
                        answer(stack.send(method, &path, Some(&bob.token), body).await).await;
                    attempts.push(Attempt {
                        what,
                        sent,
                        status,
                        msg: msg["msg"].clone(),
                    });
                }
                attempts
            }
        };
        let demotion = async {
            // Let Bob's first requests get going; a little later each round.
            tokio::time::sleep(Duration::from_millis(2 * round as u64)).await;
            let response = stack
                .patch(&bob_path, &ada, json!({"role": "member"}))
                .await;
            let status = response.status();
            let answered = Instant::now();
            let fence = json!({"name": format!("fence{round}"), "OrganizationId": org});
            expect(
                stack.post("/categories", &ada, fence).await,
                StatusCode::CREATED,
            )
            .await;
            (status, answered)
        };
        let ((demoted, answered), even, odd) = tokio::join!(demotion, stream(0), stream(1));
        assert_eq!(demoted, StatusCode::OK, "round {round}");

        for attempts in [&even, &odd] {
            let mut refused = false;
            for attempt in attempts.iter() {
                let accepted = attempt.status.is_success();
                assert!(
                    accepted
                        || (attempt.status == StatusCode::UNAUTHORIZED && attempt.msg == NOT_ADMIN),
                    "round {round}: {attempt:?}"
                );
                assert!(
                    !(refused && accepted),
                    "round {round}: accepted after a refusal: {attempt:?}"
                );
                assert!(
                    !(accepted && attempt.sent > answered),
                    "round {round}: accepted though sent after the demotion was answered: {attempt:?}"
                );
                refused |= !accepted;
            }
        }

        // Exactly the accepted requests left an effect.
        let accepted = |what: &str| {
            even.iter()
                .chain(&odd)
                .any(|a| a.what == what && a.status.is_success())
        };
        let path = format!("/categories?OrganizationId={org}");
        let categories = expect(stack.get(&path, &ada).await, StatusCode::OK).await;
        let names: Vec<&str> = categories
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let fence = names
            .iter()
            .position(|n| *n == format!("fence{round}"))
            .unwrap();
        for n in (1..PER_STREAM).step_by(3) {
            let name = format!("r{round}c{n}");
            let at = names.iter().position(|c| *c == name);
            assert_eq!(
                at.is_some(),
                accepted(&format!("create {name}")),
                "round {round}: {name}"
            );
            assert!(
                at.is_none_or(|at| at < fence),
                "round {round}: {name} after the demotion: {names:?}"
            );
        }
        let path = format!("/tags?OrganizationId={org}");
        let left = expect(stack.get(&path, &ada).await, StatusCode::OK).await;
        let left: Vec<i64> = left.as_array().unwrap().iter().map(id).collect();
        for n in (2..PER_STREAM).step_by(3) {
            let deleted = !left.contains(&tags[n]);
            assert_eq!(
                deleted,
                accepted(&format!("delete tag {}", tags[n])),
                "round {round}: tag {n}"
            );
        }
        // Adding by email invites: the accepted ones are pending.
        let path = format!("/organizations/{org}/invitations");
        let pending = expect(stack.get(&path, &ada).await, StatusCode::OK).await;
        for email in &emails {
            let invited = pending
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["email"] == email.as_str());
            assert_eq!(
                invited,
                accepted(&format!("add {email}")),
                "round {round}: {email}"
            );
        }
        let members = roles(&stack, org, &ada).await;
        assert!(members.contains(&("bob@mail.com".to_owned(), "Member".to_owned())));

        let promote = json!({"role": "admin"});
        expect(stack.patch(&bob_path, &ada, promote).await, StatusCode::OK).await;
    }
}
